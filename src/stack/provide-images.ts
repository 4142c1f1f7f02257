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
  /** The Compose file(s) as the user named them, for the refusal (default: "the Compose file"). */
  file?: string;
  /** The engine and the network (default: the host's); tests pass a fake. */
  edges?: ImageEdges;
}

/** What providing images asks of the Docker engine and the network: the seam tests fake. */
export interface ImageEdges {
  /** Every local image as `repo:tag`. */
  localImages(): Promise<Set<string>>;
  /** The stackport recipe label of each given image that exists ('' for an image without one). */
  recipeLabels(refs: string[]): Promise<Map<string, string>>;
  registryAnswers(): Promise<boolean>;
  /** Builds the drop-ins whose recipe changed (or that do not exist yet). */
  ensureRecipes(root: string, cache: string, progress: Progress, recipes: { tag: string; dir: string }[]): Promise<void>;
  /** `docker tag from to` */
  tag(from: string, to: string): Promise<void>;
}

export const hostImageEdges: ImageEdges = {
  localImages,
  recipeLabels,
  registryAnswers: () => registryAnswers(),
  ensureRecipes,
  tag: async (from, to) => {
    await run(['docker', 'tag', from, to], { what: `docker tag ${from} ${to}` });
  },
};

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

/** Every image the project needs (tagged as the engine names it) -> who names it ("service db", "web's Dockerfile"). */
function wantedImages(config: ResolvedConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (ref: string, by: string) => out.set(withTag(ref), [...(out.get(withTag(ref)) ?? []), by]);
  for (const s of config.services) {
    if (s.image && !s.build) add(s.image, `service ${s.name}`);
    if (!s.build) continue;
    const file = path.resolve(s.build.context, s.build.dockerfile);
    if (existsSync(file)) for (const ref of dockerfileBases(readFileSync(file, 'utf8'), s.build.args)) add(ref, `${s.name}'s ${path.basename(file)}`);
  }
  return out;
}

export async function provideImages(config: ResolvedConfig, o: ProvideOptions): Promise<Provided> {
  const namedBy = wantedImages(config);
  const wanted = [...namedBy.keys()].sort();
  const standIns = new Map<string, string>();
  const edges = o.edges ?? hostImageEdges;
  const local = await edges.localImages();
  // a stand-in tagged by an earlier run is tagged again (its recipe may have changed since)
  const labels = await edges.recipeLabels(wanted.filter((ref) => local.has(ref)));
  const earlier = wanted.filter((ref) => local.has(ref) && labels.get(ref) && standInFor(ref));
  const missing = wanted.filter((ref) => !local.has(ref));
  if (missing.length === 0 && earlier.length === 0) return { standIns };
  if (missing.length === 0) {
    await tagStandIns(earlier, o, edges, standIns);
    return { standIns };
  }
  const forced = o.source === 'debian' && /STACKPORT_IMAGES/.test(o.why);
  if (!forced && (await edges.registryAnswers())) {
    o.progress.info(`images: ${missing.join(', ')} not here; a registry answers, so Compose pulls them`);
    return { standIns };
  }
  const none = missing.filter((ref) => !standInFor(ref));
  if (none.length) {
    const named = none.map((ref) => `${ref} (${namedBy.get(ref)!.join(', ')})`).join(', ');
    throw new StackportError(`${o.file ?? 'the Compose file'} names image(s) not in the Docker engine, no registry answers and no Debian drop-in stands in for them: ${named}`, {
      hint: `load each from an archive first (docker load -i <archive>.tar; made elsewhere with docker save ${none.join(' ')}), or build it; nothing was started`,
    });
  }
  await tagStandIns([...missing, ...earlier], o, edges, standIns);
  return { standIns };
}

async function tagStandIns(refs: string[], o: ProvideOptions, edges: ImageEdges, standIns: Map<string, string>): Promise<void> {
  const recipes = [...new Map(refs.map((ref) => standInFor(ref)!).map((d) => [d.tag, d])).values()];
  await edges.ensureRecipes(o.root, o.cache, o.progress, recipes);
  for (const ref of refs) {
    const d = standInFor(ref)!;
    await edges.tag(d.tag, ref);
    standIns.set(ref, d.tag);
    o.progress.info(`images: ${ref} is the Debian drop-in ${d.tag} (no registry answers; compose/images/${d.dir})`);
  }
}
