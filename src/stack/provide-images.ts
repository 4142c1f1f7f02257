/**
 * The images a project's file names, provided before anything starts: present in the engine,
 * or pulled by Compose where a registry answers, or (no registry) a Debian drop-in tagged under
 * the name the file uses, said so. An image with none of these is named up front with what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { run } from '../exec/run.js';
import { ensureRecipes, localImages, recipeLabels, standInFor } from '../engine/images.js';
import { registryAnswers } from '../engine/registry.js';
import type { Progress } from '../ui/progress.js';
import type { ResolvedConfig } from './resolved-config.js';

export interface ProvideOptions {
  root: string;
  cache: string;
  progress: Progress;
  /** STACKPORT_IMAGES's answer: debian forces the drop-ins even where a registry answers. */
  source: 'official' | 'debian';
  why: string;
}

/** `redis` -> `redis:latest`, as the engine names it. */
export function withTag(ref: string): string {
  if (ref.includes('@')) return ref;
  return /:[^/]*$/.test(ref) ? ref : `${ref}:latest`;
}

export interface Provided {
  /** image -> drop-in tag it was given */
  standIns: Map<string, string>;
}

/** The base images a Dockerfile builds FROM (ARG defaults and build args substituted; stages and scratch left out). */
export function dockerfileBases(text: string, args: Record<string, string> = {}): string[] {
  const vars: Record<string, string> = {};
  const stages = new Set<string>();
  const out: string[] = [];
  let seenFrom = false;
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/i.exec(line);
    if (arg && !seenFrom) vars[arg[1]!] = args[arg[1]!] ?? (arg[2] ?? '').replace(/^["']|["']$/g, '');
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    seenFrom = true;
    const ref = from[1]!.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, d, b) => vars[a ?? b] || d || '');
    if (ref && ref !== 'scratch' && !stages.has(ref.toLowerCase())) out.push(ref);
    if (from[2]) stages.add(from[2].toLowerCase());
  }
  return out;
}

function buildBases(config: ResolvedConfig): string[] {
  return config.services.flatMap((s) => {
    if (!s.build) return [];
    const file = path.resolve(s.build.context, s.build.dockerfile);
    return existsSync(file) ? dockerfileBases(readFileSync(file, 'utf8'), s.build.args) : [];
  });
}

export async function provideImages(config: ResolvedConfig, o: ProvideOptions): Promise<Provided> {
  const named = config.services.filter((s) => s.image && !s.build).map((s) => s.image!);
  const wanted = [...new Set([...named, ...buildBases(config)].map(withTag))].sort();
  const standIns = new Map<string, string>();
  const local = await localImages();
  // a stand-in tagged by an earlier run is tagged again (its recipe may have changed since)
  const labels = await recipeLabels(wanted.filter((ref) => local.has(ref)));
  const earlier = wanted.filter((ref) => local.has(ref) && labels.get(ref) && standInFor(ref));
  const missing = wanted.filter((ref) => !local.has(ref));
  if (missing.length === 0 && earlier.length === 0) return { standIns };
  if (missing.length === 0) {
    await tagStandIns(earlier, o, standIns);
    return { standIns };
  }
  const forced = o.source === 'debian' && /STACKPORT_IMAGES/.test(o.why);
  if (!forced && (await registryAnswers())) {
    o.progress.info(`images: ${missing.join(', ')} not here; a registry answers, so Compose pulls them`);
    return { standIns };
  }
  const none = missing.filter((ref) => !standInFor(ref));
  if (none.length) {
    throw new StackportError(`image(s) not in the Docker engine, no registry answers and no Debian drop-in stands in for them: ${none.join(', ')}`, {
      hint: `load each from an archive first (docker load -i <archive>.tar; made elsewhere with docker save ${none.join(' ')}), or build it; nothing was started`,
    });
  }
  await tagStandIns([...missing, ...earlier], o, standIns);
  return { standIns };
}

async function tagStandIns(refs: string[], o: ProvideOptions, standIns: Map<string, string>): Promise<void> {
  const recipes = [...new Map(refs.map((ref) => standInFor(ref)!).map((d) => [d.tag, d])).values()];
  await ensureRecipes(o.root, o.cache, o.progress, recipes);
  for (const ref of refs) {
    const d = standInFor(ref)!;
    await run(['docker', 'tag', d.tag, ref], { what: `docker tag ${d.tag} ${ref}` });
    standIns.set(ref, d.tag);
    o.progress.info(`images: ${ref} is the Debian drop-in ${d.tag} (no registry answers; compose/images/${d.dir})`);
  }
}
