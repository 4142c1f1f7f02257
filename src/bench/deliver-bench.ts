/**
 * make bench-deliver: getting the demo's images to a node, three ways side by side in one run:
 *
 * - registry: `docker push` to a registry (only the layers it lacks), then the node pulls by
 *   digest (`ctr images pull`, only the layers it lacks);
 * - `docker save | ctr import`: the kubeadm provider's fallback, the whole image every time;
 * - `kind load docker-image`: the kind provider's fallback, the whole image to every node (only
 *   when a kind cluster runs; else the row says so).
 *
 * Two cases: the first delivery of the four images (empty registry, empty node store), and a
 * one-line page change (web rebuilt with another PAGE_VERSION: one small new layer). The
 * "node" is a containerd of the bench's own (own root, socket and namespace, removed at the
 * end), so nothing of the clusters or the local registry is touched; the bench registry runs on
 * 127.0.0.1:5002 without a volume. Medians of --runs (default 3; the first delivery: --first-runs,
 * default 1, since each is minutes on this machine).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { probe, run } from '../exec/run.js';
import { waitFor } from '../exec/wait.js';
import { ConsoleProgress, formatMs } from '../ui/progress.js';
import { CacheLayout } from '../cluster/build/cache.js';
import { KUBERNETES_VERSION } from '../cluster/build/versions.js';
import { REGISTRY_IMAGE, ensureRegistryImage, parseRegistry, pushImages, registryAnswersAt } from '../cluster/addons/registry.js';
import { cacheRoot } from '../engine/cache.js';
import { STAND_INS, standInFor } from '../engine/images.js';
import { dockerfileBases, withTag } from '../stack/provide-images.js';
import { median, table } from './stats.js';

const BENCH_REGISTRY = 'stackport-registry-bench';
const BENCH_PORT = 5002;
const NS = 'stackport-bench';

export interface DeliverArgs {
  runs: number;
  firstRuns: number;
  images: string[];
  web: string;
}

export function parseDeliverArgs(argv: string[]): DeliverArgs {
  const get = (k: string) => argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const num = (k: string, d: number) => {
    const v = get(k);
    if (v === undefined) return d;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 20) throw new StackportError(`--${k}=${v}: a whole number from 1 to 20`, { exitCode: 2 });
    return Number(v);
  };
  const images = (get('images') ?? 'stackport-web:1,stackport-api:1,stackport/postgres:15-bookworm,stackport/rabbitmq:3.10-bookworm').split(',').filter(Boolean);
  return { runs: num('runs', 3), firstRuns: num('first-runs', 1), images, web: get('web') ?? 'stackport-web:1' };
}

/** A containerd of the bench's own: the node's image store, nothing shared with a cluster. */
class BenchNode {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-bench-containerd-'));
  readonly socket = path.join(this.dir, 'containerd.sock');
  private pid?: number;

  constructor(
    readonly containerd: string,
    readonly ctr: string,
  ) {}

  static find(): BenchNode {
    const built = new CacheLayout(KUBERNETES_VERSION);
    if (existsSync(built.binary('containerd')) && existsSync(built.binary('ctr'))) return new BenchNode(built.binary('containerd'), built.binary('ctr'));
    if (existsSync('/usr/bin/containerd') && existsSync('/usr/bin/ctr')) return new BenchNode('/usr/bin/containerd', '/usr/bin/ctr');
    throw new StackportError('no containerd to play the node', { hint: 'make cluster-up builds one; or apt-get install containerd' });
  }

  async start(): Promise<void> {
    const root = path.join(this.dir, 'root');
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const cfg = path.join(this.dir, 'config.toml');
    writeFileSync(
      cfg,
      `version = 2\nroot = '${root}'\nstate = '${path.join(this.dir, 'state')}'\ndisabled_plugins = ['io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images', 'io.containerd.cri.v1.runtime', 'io.containerd.nri.v1.nri']\n[grpc]\n  address = '${this.socket}'\n[ttrpc]\n  address = '${this.socket}.ttrpc'\n[debug]\n  address = ''\n`,
    );
    const child = spawn(this.containerd, ['--config', cfg], { stdio: 'ignore', detached: false });
    this.pid = child.pid;
    child.unref();
    await waitFor('the bench containerd', async () => (await probe([this.ctr, '--address', this.socket, 'version'], { timeoutMs: 3000 })).exitCode === 0, { timeoutMs: 30_000, intervalMs: 200 });
  }

  async stop(): Promise<void> {
    if (this.pid) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await waitFor('the bench containerd to stop', async () => {
        try {
          process.kill(this.pid!, 0);
          return false;
        } catch {
          return true;
        }
      }, { timeoutMs: 15_000, intervalMs: 100 }).catch(() => process.kill(this.pid!, 'SIGKILL'));
      this.pid = undefined;
    }
  }

  /** A node with nothing on it. */
  async reset(): Promise<void> {
    await this.stop();
    await this.start();
  }

  argv(...args: string[]): string[] {
    return [this.ctr, '--address', this.socket, '--namespace', NS, ...args];
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function benchRegistryUp(): Promise<void> {
  await probe(['docker', 'rm', '-f', '-v', BENCH_REGISTRY]);
  await run(['docker', 'run', '-d', '--name', BENCH_REGISTRY, '--label', 'org.stackport.role=bench', '-p', `127.0.0.1:${BENCH_PORT}:5000`, REGISTRY_IMAGE], { what: 'docker run bench registry' });
  await waitFor('the bench registry', () => registryAnswersAt(`http://127.0.0.1:${BENCH_PORT}`), { timeoutMs: 30_000, intervalMs: 200 });
}

/** docker save | ctr import, streamed (what the kubeadm provider does). */
async function saveImport(node: BenchNode, images: string[]): Promise<void> {
  for (const image of images) {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'pipe'] });
    const [ctr, ...args] = node.argv('images', 'import', '--platform', 'linux/amd64', '-');
    const imp = spawn(ctr!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    save.stdout.pipe(imp.stdin);
    let err = '';
    imp.stderr.on('data', (c) => (err += c));
    save.stderr.on('data', (c) => (err += c));
    const codes = await Promise.all([new Promise<number>((r) => save.on('close', (c) => r(c ?? 1))), new Promise<number>((r) => imp.on('close', (c) => r(c ?? 1)))]);
    if (codes.some((c) => c !== 0)) throw new StackportError(`docker save ${image} | ctr import failed`, { details: err });
  }
}

async function pull(node: BenchNode, refs: string[]): Promise<void> {
  for (const ref of refs) await run(node.argv('images', 'pull', '--plain-http', '--platform', 'linux/amd64', ref), { what: `ctr pull ${ref}`, timeoutMs: 20 * 60_000 });
}

async function kindNodes(): Promise<string[]> {
  const r = await probe(['docker', 'ps', '--filter', 'label=io.x-k8s.kind.cluster', '--format', '{{.Label "io.x-k8s.kind.cluster"}} {{.Names}}']);
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

async function kindLoad(images: string[], run_: number): Promise<number> {
  const { KindCache, KIND_VERSION } = await import('../cluster/build/kind-cli.js');
  const kind = new KindCache(KIND_VERSION).kind;
  const nodes = await kindNodes();
  const cluster = nodes[0]!.split(' ')[0]!;
  // a unique name per run: kind skips an image a node already has under that name
  const tags = images.map((i) => `stackport-bench/${i.replace(/[/:]/g, '-')}:run${run_}-${Date.now()}`);
  for (let i = 0; i < images.length; i++) await run(['docker', 'tag', images[i]!, tags[i]!]);
  const t0 = Date.now();
  await run([kind, 'load', 'docker-image', '--name', cluster, ...tags], { what: 'kind load', timeoutMs: 30 * 60_000 });
  const ms = Date.now() - t0;
  for (const n of nodes.map((l) => l.split(' ')[1]!)) for (const t of tags) await probe(['docker', 'exec', n, 'ctr', '-n', 'k8s.io', 'images', 'rm', `docker.io/${t}`]);
  await probe(['docker', 'rmi', ...tags]);
  return ms;
}

export interface ImageSize {
  image: string;
  bytes: number;
  layers: number;
}

/** Each image's size and layer count, as `docker image inspect` reports them. */
export async function imageSizes(images: string[]): Promise<ImageSize[]> {
  const out: ImageSize[] = [];
  for (const image of images) {
    const r = await run(['docker', 'image', 'inspect', '--format', '{{.Size}} {{len .RootFS.Layers}}', image], { what: `docker image inspect ${image}` });
    const [bytes, layers] = r.stdout.trim().split(' ').map(Number);
    out.push({ image, bytes: bytes!, layers: layers! });
  }
  return out;
}

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/** The official image an image is (a drop-in) or is built on (the demo's web and api), where its size is known. */
export async function officialOf(image: string, root: string): Promise<string> {
  const drop = STAND_INS.find((d) => d.tag === withTag(image)) ?? standInFor(image);
  if (drop?.official) return `${drop.official.ref}: ${drop.official.mb} MB`;
  if (drop) return '-';
  // a demo image: the official image its Dockerfile's FROM names by default
  const demo = /^stackport-(web|api):/.exec(image)?.[1];
  if (!demo) return '-';
  const bases = dockerfileBases(readFileSync(path.join(root, 'compose', demo, 'Dockerfile'), 'utf8'));
  const base = STAND_INS.find((d) => bases.some((b) => standInFor(b) === d));
  return base?.official ? `on ${base.official.ref}: ${base.official.mb} MB + app` : '-';
}

/** The one-line change: web rebuilt with another PAGE_VERSION (the sed layer differs). */
async function pageChange(root: string, n: number): Promise<string> {
  const tag = `stackport-web:bench-${n}`;
  const from = process.env.NGINX_IMAGE ?? ((await probe(['docker', 'image', 'inspect', 'stackport/nginx:1.22-bookworm'])).exitCode === 0 ? 'stackport/nginx:1.22-bookworm' : 'nginx:1.27');
  await run(['docker', 'build', '-q', '--build-arg', `NGINX_IMAGE=${from}`, '--build-arg', `PAGE_VERSION=bench-${n}-${Date.now()}`, '-t', tag, path.join(root, 'compose', 'web')], {
    what: 'docker build web (one-line change)',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  return tag;
}

export async function benchDeliver(argv: string[], ctx: { root: string }): Promise<void> {
  const a = parseDeliverArgs(argv);
  const progress = new ConsoleProgress();
  for (const i of a.images) if ((await probe(['docker', 'image', 'inspect', i])).exitCode !== 0) throw new StackportError(`image ${i} is not in the engine`, { hint: 'run `make up` first', exitCode: 2 });
  await ensureRegistryImage(ctx.root, cacheRoot(), progress);
  const node = BenchNode.find();
  const registry = parseRegistry(`localhost:${BENCH_PORT}`);
  const silent = new (await import('../ui/progress.js')).SilentProgress();
  const hasKind = (await kindNodes()).length > 0;
  const t: Record<string, number[]> = {};
  const rec = (k: string, ms: number) => (t[k] ??= []).push(ms);
  const made: string[] = [];
  try {
    // ---- first delivery, each image timed on its own (the sizes table shows them beside each other)
    for (let i = 0; i < a.firstRuns; i++) {
      await progress.step(`first delivery, run ${i + 1}/${a.firstRuns}`, async (update) => {
        await benchRegistryUp();
        await node.reset();
        for (const image of a.images) {
          update(`registry push + pull ${image}`);
          const [pushed] = await pushImages([image], registry, silent);
          rec(`first:registry push:${image}`, pushed!.ms);
          const t0 = Date.now();
          await pull(node, [pushed!.ref]);
          rec(`first:registry pull:${image}`, Date.now() - t0);
        }
        await node.reset();
        for (const image of a.images) {
          update(`docker save | ctr import ${image}`);
          const t0 = Date.now();
          await saveImport(node, [image]);
          rec(`first:save-import:${image}`, Date.now() - t0);
        }
        if (hasKind) {
          update('kind load');
          rec('first:kind load', await kindLoad(a.images, i));
        }
      });
    }
    // ---- one-line page change: the node and the registry have the previous version
    await progress.step('one-line change: prepare (previous web on the registry and the node)', async () => {
      await benchRegistryUp();
      await node.reset();
      const pushed = await pushImages([a.web], registry, silent);
      await pull(node, pushed.map((p) => p.ref));
    });
    for (let i = 0; i < a.runs; i++) {
      await progress.step(`one-line change, run ${i + 1}/${a.runs}`, async () => {
        const tag = await pageChange(ctx.root, i);
        made.push(tag);
        let t0 = Date.now();
        const pushed = await pushImages([tag], registry, silent);
        rec('change:registry push', Date.now() - t0);
        t0 = Date.now();
        await pull(node, pushed.map((p) => p.ref));
        rec('change:registry pull', Date.now() - t0);
        t0 = Date.now();
        await saveImport(node, [tag]);
        rec('change:save-import', Date.now() - t0);
        if (hasKind) rec('change:kind load', await kindLoad([tag], 100 + i));
      });
    }
  } finally {
    await node.remove();
    await probe(['docker', 'rm', '-f', '-v', BENCH_REGISTRY]);
    for (const tag of made) {
      await probe(['docker', 'rmi', tag]);
      await probe(['docker', 'rmi', `localhost:${BENCH_PORT}/${tag}`]);
    }
    for (const i of a.images) await probe(['docker', 'rmi', `localhost:${BENCH_PORT}/${i}`]);
  }
  const m = (k: string) => (t[k]?.length ? formatMs(Math.round(median(t[k]!))) : 'no kind cluster');
  const med = (k: string) => (t[k]?.length ? median(t[k]!) : NaN);
  const total = (kind: string) => a.images.reduce((n, i) => n + med(`first:${kind}:${i}`), 0);
  const sum = (x: string, y: string) => (t[x] && t[y] ? formatMs(Math.round(median(t[x]!) + median(t[y]!))) : '-');
  const sizes = await imageSizes(a.images);
  const allBytes = sizes.reduce((n, s) => n + s.bytes, 0);
  const rows = [
    [
      'registry (push + node pull by digest)',
      `${formatMs(Math.round(total('registry push') + total('registry pull')))} (${formatMs(Math.round(total('registry push')))} + ${formatMs(Math.round(total('registry pull')))})`,
      `${sum('change:registry push', 'change:registry pull')} (${m('change:registry push')} + ${m('change:registry pull')})`,
    ],
    ['docker save | ctr import', formatMs(Math.round(total('save-import'))), m('change:save-import')],
    ['kind load docker-image', m('first:kind load'), m('change:kind load')],
  ];
  const perImage: string[][] = [];
  for (const s of sizes) {
    const i = s.image;
    perImage.push([
      i,
      mb(s.bytes),
      String(s.layers),
      await officialOf(i, ctx.root),
      `${formatMs(Math.round(med(`first:registry push:${i}`) + med(`first:registry pull:${i}`)))} (${formatMs(Math.round(med(`first:registry push:${i}`)))} + ${formatMs(Math.round(med(`first:registry pull:${i}`)))})`,
      formatMs(Math.round(med(`first:save-import:${i}`))),
    ]);
  }
  const out = [
    `deliver images to a node: ${a.images.join(', ')}; medians of ${a.firstRuns} first-delivery and ${a.runs} one-line-change run(s)`,
    table(['method', `first delivery (${a.images.length} images, ${mb(allBytes)})`, 'one-line page change (web)'], rows),
    '',
    'each image (size and layers: docker image inspect; first delivery of that image alone):',
    table(['image', 'size', 'layers', 'official image', 'registry push + pull', 'docker save | ctr import'], perImage),
    'a layer images share (the Debian base) moves with the first of them through the registry; docker save sends it with every image',
  ];
  const change = t['change:registry push'] && t['change:registry pull'] ? median(t['change:registry push']!) + median(t['change:registry pull']!) : NaN;
  out.push('', `one-line change through the registry: ${formatMs(Math.round(change))} (target at most 2 s: ${change <= 2000 ? 'met' : 'not met'})`);
  process.stdout.write(`${out.join('\n')}\n`);
}
