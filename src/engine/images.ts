/**
 * Which images the demo stack runs on: the official ones (a registry answers) or drop-ins
 * built from Debian packages on a locally made base (no registry). compose.yaml is the same
 * either way: the choice is written as *_IMAGE variables into compose/.env.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { probe, run, which } from '../exec/run.js';
import { hostCmder, type Cmder } from '../exec/actions.js';
import type { Progress } from '../ui/progress.js';
import { registryAnswers } from './registry.js';
import { aptInstall } from './engine.js';
import { slimRecipeHash, slimRootfs } from './debian-slim.js';

export type ImageSource = 'official' | 'debian';

export interface BaseImages {
  NGINX_IMAGE: string;
  NODE_IMAGE: string;
  POSTGRES_IMAGE: string;
  RABBITMQ_IMAGE: string;
}

export const OFFICIAL: BaseImages = {
  NGINX_IMAGE: 'nginx:1.27',
  NODE_IMAGE: 'node:20-bookworm-slim',
  POSTGRES_IMAGE: 'postgres:15',
  RABBITMQ_IMAGE: 'rabbitmq:3.13-management',
};

export const DEBIAN_BASE = 'stackport/debian:bookworm';

/** Drop-in images: variable, tag, and the folder under compose/images holding the recipe. */
export const DROP_INS: { variable: keyof BaseImages; tag: string; dir: string }[] = [
  { variable: 'NGINX_IMAGE', tag: 'stackport/nginx:1.22-bookworm', dir: 'nginx' },
  { variable: 'NODE_IMAGE', tag: 'stackport/node:18-bookworm', dir: 'node' },
  { variable: 'POSTGRES_IMAGE', tag: 'stackport/postgres:15-bookworm', dir: 'postgres' },
  { variable: 'RABBITMQ_IMAGE', tag: 'stackport/rabbitmq:3.10-bookworm', dir: 'rabbitmq' },
];

/**
 * The size of the official image a drop-in stands in for, where known (`docker image ls`, as
 * issue 12 gives them; no registry answers on this machine to measure the others): the bench and
 * docs/own-project.md show it beside the drop-in's, which is to be no larger.
 */
export interface OfficialSize {
  ref: string;
  mb: number;
}

/**
 * Drop-ins for the images other projects name (any tag of these repositories), where no registry
 * answers: the official repository's base name -> the recipe folder and the drop-in's tag.
 */
export const STAND_INS: { repos: string[]; tag: string; dir: string; official?: OfficialSize }[] = [
  { repos: ['nginx'], tag: 'stackport/nginx:1.22-bookworm', dir: 'nginx', official: { ref: 'nginx:1.27', mb: 192 } },
  { repos: ['node'], tag: 'stackport/node:18-bookworm', dir: 'node' },
  { repos: ['postgres'], tag: 'stackport/postgres:15-bookworm', dir: 'postgres', official: { ref: 'postgres:15', mb: 430 } },
  { repos: ['rabbitmq'], tag: 'stackport/rabbitmq:3.10-bookworm', dir: 'rabbitmq' },
  { repos: ['redis'], tag: 'stackport/redis:7.0-bookworm', dir: 'redis' },
  { repos: ['mariadb', 'mysql'], tag: 'stackport/mariadb:10.11-bookworm', dir: 'mariadb' },
  { repos: ['python'], tag: 'stackport/python:3.11-bookworm', dir: 'python' },
];

/** The drop-in that stands in for an image reference (`mariadb:11`, `docker.io/library/redis:7-alpine`), if any. */
export function standInFor(ref: string): (typeof STAND_INS)[number] | undefined {
  const repo = ref.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  const parts = repo.split('/');
  // only the official images (library/), not bitnami/redis or someone's mysql
  const official = parts.length === 1 || (parts.length === 2 && parts[0] === 'library') || (parts.length === 3 && /^(docker\.io|index\.docker\.io)$/.test(parts[0]!) && parts[1] === 'library');
  if (!official) return undefined;
  const base = parts[parts.length - 1]!;
  return STAND_INS.find((d) => d.repos.includes(base));
}

export const DEBIAN: BaseImages = Object.fromEntries(DROP_INS.map((d) => [d.variable, d.tag])) as unknown as BaseImages;

/** The engine's ID of an image, or undefined when the engine does not have it. */
export async function imageId(ref: string, cmd: Pick<Cmder, 'probe'> = hostCmder): Promise<string | undefined> {
  const r = await cmd.probe(['docker', 'image', 'inspect', '--format', '{{.Id}}', ref]);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function imageExists(ref: string, cmd: Pick<Cmder, 'probe'> = hostCmder): Promise<boolean> {
  return (await imageId(ref, cmd)) !== undefined;
}

/** Every local image as `repo:tag`: one engine call. */
export async function localImages(): Promise<Set<string>> {
  const r = await probe(['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

/** The stackport recipe label of each given image that exists (one engine call; missing ones are left out). */
export async function recipeLabels(refs: string[]): Promise<Map<string, string>> {
  const r = await probe(['docker', 'image', 'inspect', '--format', '{{json .RepoTags}} {{index .Config.Labels "org.stackport.recipe"}}', ...refs]);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\[.*?\]) ?(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const tag of JSON.parse(m[1]!) as string[]) out.set(tag, m[2] === '<no value>' ? '' : m[2]!);
  }
  return out;
}

export interface ChooseOptions {
  /** STACKPORT_IMAGES: official, debian or auto (default). */
  requested?: string;
  progress: Progress;
}

/**
 * auto: official images when they are already local or a registry answers; otherwise the
 * Debian drop-ins.
 */
export async function chooseImageSource(options: ChooseOptions): Promise<{ source: ImageSource; why: string }> {
  const requested = (options.requested ?? 'auto').toLowerCase();
  if (requested === 'official' || requested === 'debian') return { source: requested, why: `STACKPORT_IMAGES=${requested}` };
  if (requested !== 'auto') {
    throw new StackportError(`STACKPORT_IMAGES=${options.requested} is not a known image source`, { hint: 'use official, debian or auto' });
  }
  const local = await localImages();
  if (Object.values(OFFICIAL).every((ref) => local.has(ref))) return { source: 'official', why: 'official images are present locally' };
  if (await registryAnswers()) return { source: 'official', why: 'a registry answers' };
  return { source: 'debian', why: 'no registry answers' };
}

/** The Debian mirror apt uses on this machine (drop-ins install from the same one). */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => path.join('/etc/apt/sources.list.d', f))];
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822?.[1]) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\b/m.exec(text);
    if (oneLine?.[1]) return oneLine[1];
  }
  return 'http://deb.debian.org/debian';
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The Debian base image: debootstrap (minbase) once, cached as a tarball, then `docker import`
 * of it made slim on the way (debian-slim.ts: no docs, man pages, translations or apt lists; dpkg
 * and apt set to keep every drop-in's installs that way). Its label is the slim recipe's hash:
 * a base imported by an earlier recipe (or none) is imported again.
 */
export async function ensureDebianBase(cacheDir: string, progress: Progress): Promise<void> {
  const recipe = slimRecipeHash();
  if ((await recipeLabels([DEBIAN_BASE])).get(DEBIAN_BASE) === recipe) return;
  const tarball = path.join(cacheDir, 'images', 'debian-bookworm-minbase.tar');
  if (!existsSync(tarball)) {
    if (!(await which('debootstrap'))) await aptInstall(['debootstrap'], progress);
    const mirror = debianMirror();
    await progress.step(`debootstrap bookworm from ${mirror}`, async () => {
      mkdirSync(path.dirname(tarball), { recursive: true });
      const root = mkdtempSync(path.join(os.tmpdir(), 'stackport-rootfs-'));
      try {
        await run(['debootstrap', '--variant=minbase', 'bookworm', root, mirror], { what: 'debootstrap', timeoutMs: 900_000 });
        rmSync(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
        mkdirSync(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
        await run(['tar', '-C', root, '-cf', `${tarball}.tmp`, '.'], { what: 'packing the base rootfs' });
        await run(['mv', `${tarball}.tmp`, tarball]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
  await progress.step(`docker import ${DEBIAN_BASE} (slim: no docs, man pages, locales, apt lists)`, async (update) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-slim-base-'));
    try {
      const slim = path.join(dir, 'rootfs.tar');
      const r = await slimRootfs(createReadStream(tarball), createWriteStream(slim));
      update(`${r.dropped} files (${(r.droppedBytes / 1e6).toFixed(0)} MB) left out`);
      await run(['docker', 'import', '--change', 'CMD ["bash"]', '--change', `LABEL org.stackport.recipe=${recipe}`, slim, DEBIAN_BASE], { what: `docker import ${DEBIAN_BASE}` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The base's recipe, for the hash of each image built FROM it (a new base rebuilds them). */
export function baseRecipe(): string {
  return `${DEBIAN_BASE}@${slimRecipeHash()}`;
}

/** A hash of a recipe folder (every file's path and content): the drop-in's cache key. */
export function recipeHash(dir: string, extra: string[] = []): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else h.update(path.relative(dir, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  walk(dir);
  for (const e of extra) h.update(e).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * The host's CA bundle goes into each drop-in's build context: where a TLS-inspecting proxy
 * stands between the machine and the npm registry (as here), `npm ci` in the api's build
 * trusts what the host trusts. On other machines it is just the usual Debian bundle.
 */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export async function ensureDropIns(repoRoot: string, cacheDir: string, progress: Progress): Promise<BaseImages> {
  await ensureRecipes(repoRoot, cacheDir, progress, DROP_INS);
  return DEBIAN;
}

/** Every drop-in recipe once: the demo's and the stand-ins other projects' images get. */
export const ALL_RECIPES: { tag: string; dir: string }[] = [...new Map([...DROP_INS, ...STAND_INS].map((d) => [d.tag, { tag: d.tag, dir: d.dir }])).values()];

/** make prepare: the demo's drop-ins and every stand-in (the own-project tests and the drop-in test use them). */
export async function ensureAllDropIns(repoRoot: string, cacheDir: string, progress: Progress): Promise<void> {
  await ensureRecipes(repoRoot, cacheDir, progress, ALL_RECIPES);
}

/** Builds the given drop-ins whose recipe changed (or that are missing), in parallel. */
export async function ensureRecipes(repoRoot: string, cacheDir: string, progress: Progress, recipes: { tag: string; dir: string }[]): Promise<void> {
  await ensureDebianBase(cacheDir, progress);
  const caText = existsSync(HOST_CA_BUNDLE) ? readFileSync(HOST_CA_BUNDLE, 'utf8') : '';
  const todo: typeof recipes = [];
  const hashes = new Map<string, string>();
  const labels = await recipeLabels(recipes.map((d) => d.tag));
  for (const d of recipes) {
    const hash = recipeHash(path.join(repoRoot, 'compose', 'images', d.dir), [caText, baseRecipe()]);
    hashes.set(d.tag, hash);
    if (labels.get(d.tag) !== hash) todo.push(d);
  }
  // Build in parallel: each is mostly apt downloads and unpacking.
  await Promise.all(
    todo.map((d) =>
      progress.step(`build drop-in ${d.tag}`, async () => {
        const context = mkdtempSync(path.join(os.tmpdir(), `stackport-${d.dir}-`));
        try {
          cpSync(path.join(repoRoot, 'compose', 'images', d.dir), context, { recursive: true });
          if (caText) copyFileSync(HOST_CA_BUNDLE, path.join(context, 'host-ca-certificates.crt'));
          else writeEmpty(path.join(context, 'host-ca-certificates.crt'));
          await run(
            ['docker', 'build', '-q', '--build-arg', `BASE=${DEBIAN_BASE}`, '--label', `org.stackport.recipe=${hashes.get(d.tag)}`, '-t', d.tag, context],
            { what: `docker build ${d.tag}`, env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeoutMs: 1_200_000 },
          );
        } finally {
          rmSync(context, { recursive: true, force: true });
        }
      }),
    ),
  );
}

function writeEmpty(file: string): void {
  copyFileSync('/dev/null', file);
}
