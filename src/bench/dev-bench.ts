/**
 * make bench-dev: edit-to-live (file written -> the new content served at the entry) for a
 * static file (the page) and for api code, with make dev's sync, side by side with the manual
 * rebuild + update path in the same run (Compose: `compose up -d --build <service>`; cluster:
 * build, deliver the image, roll the Deployment, as `make build` + `k8s.mjs update` do), on
 * Compose and on the cluster; medians of N runs (default 5). A copy of compose/ in a temp dir,
 * Compose project dev-bench (web on 127.0.0.1:18710), cluster namespace stackport-dev (NodePort 30600).
 * make dev's own phases (compile, copy, restart) are shown beside each of its rows, as medians.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { commandArgs } from '../ui/args.js';
import { StackportError } from '../errors.js';
import { run } from '../exec/run.js';
import { waitFor } from '../exec/wait.js';
import { detect } from '../cluster/providers/detect.js';
import { kubectlFor } from '../migrate/kube.js';
import { request } from '../smoke/http.js';
import { buildChanged, prepareStack, removeProject, up } from '../stack/stack.js';
import { ConsoleProgress, SilentProgress } from '../ui/progress.js';
import { composeArgv, composeRunOptions } from '../dev/build-image.js';
import { deployToNamespace } from '../dev/cluster-app.js';
import { writeDemoEnv } from '../dev/demo-env.js';
import { ClusterDevTarget } from '../dev/cluster-target.js';
import { startDev, type DevSession } from '../dev/dev.js';
import type { UpdateResult } from '../dev/update.js';
import { median, table } from './stats.js';

const PROJECT = 'dev-bench';
const NAMESPACE = 'stackport-dev';
const NODE_PORT = 30600;

interface Row {
  target: string;
  what: string;
  path: string;
  runs: number[];
  /** make dev's phases of each run (compile, copy, restart), ms. */
  phases: Record<string, number>[];
}

/** Writes a marker into a file and measures until the entry serves it. */
async function editToLive(file: string, mark: (text: string, n: string) => string, url: string, n: string, timeoutMs = 300_000): Promise<number> {
  const text = readFileSync(file, 'utf8');
  const next = mark(text, n);
  if (next === text) throw new StackportError(`bench: could not mark ${file}`);
  writeFileSync(file, next);
  const t0 = Date.now();
  await waitFor(`${url} to serve ${n}`, async () => (await request(url, { timeoutMs: 3000 }).catch(() => undefined))?.body.includes(n), { timeoutMs, intervalMs: 25 });
  return Date.now() - t0;
}

const pageMark = (t: string, n: string) => t.replace(/<h1>Hello Docker!<\/h1>(<p id="bench">[^<]*<\/p>)?/, `<h1>Hello Docker!</h1><p id="bench">${n}</p>`);
const apiMark = (t: string, n: string) => t.replace(/send\(res, 200, \{ version: config\.version(, bench: '[^']*')? \}\)/, `send(res, 200, { version: config.version, bench: '${n}' })`);

export async function benchDev(argv: string[], ctx: { root: string }): Promise<void> {
  const v = commandArgs(argv, { runs: { type: 'string' }, 'manual-runs': { type: 'string' }, target: { type: 'string', multiple: true } }, { hint: 'make bench-dev ARGS="--runs 5 --manual-runs 3 --target compose --target cluster"' }).values;
  const runs = Number(v.runs ?? 5);
  // the manual path takes a rebuild per run (minutes on the cluster): fewer runs of it on request
  const manualRuns = Number(v['manual-runs'] ?? runs);
  for (const [k, n, given] of [['--runs', runs, v.runs], ['--manual-runs', manualRuns, v['manual-runs']]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new StackportError(`${k} must be a whole number of runs (1 or more), not "${given}"`, { exitCode: 2 });
  }
  const targets = v.target ?? ['compose', 'cluster'];
  for (const t of targets) if (t !== 'compose' && t !== 'cluster') throw new StackportError(`--target must be compose or cluster, not "${t}"`, { exitCode: 2 });
  const progress = new ConsoleProgress();
  const dir = mkdtempSync(path.join(tmpdir(), 'stackport-dev-bench-'));
  for (const x of ['compose.yaml', 'web', 'api']) cpSync(path.join(ctx.root, 'compose', x), path.join(dir, x), { recursive: true, filter: (s) => !/\/(node_modules|dist)$/.test(s) && !s.endsWith('/.env') });
  const file = path.join(dir, 'compose.yaml');
  const env = { ...process.env, STACKPORT_PROJECT: PROJECT, WEB_PORT: '18710', WEB_VERSION: 'dev', API_VERSION: 'dev', STACKPORT_COMPOSE_FILE: file };
  const page = path.join(dir, 'web/html/index.html');
  const server = path.join(dir, 'api/src/server.ts');
  const rows: Row[] = [];
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const sessions: DevSession[] = [];
  // make dev's own lines, shown when a run fails (why an edit never went live)
  let devLines = '';
  const devOut = new Writable({ write: (c, _e, cb) => ((devLines = (devLines + String(c)).slice(-20_000)), cb()) });
  const updates: UpdateResult[] = [];
  let counter = 0;
  const tag = () => `bench-${Date.now().toString(36)}-${++counter}`;
  try {
    await removeProject(PROJECT, new SilentProgress(), { volumes: true });
    await writeDemoEnv(path.join(dir, '.env'), env);
    const stack = await prepareStack({ root: ctx.root, progress, env });
    if (targets.includes('compose')) await progress.step(`Compose stack up (project ${PROJECT})`, () => up(stack));
    else await progress.step('build the images (the cluster gets them from the engine)', () => buildChanged(stack));
    const measure = async (target: string, what: string, p: string, fn: () => Promise<number>) => {
      const row: Row = { target, what, path: p, runs: [], phases: [] };
      rows.push(row);
      const n = p.startsWith('make dev') ? runs : manualRuns;
      for (let i = 0; i < n; i++) {
        const seen = updates.length;
        row.runs.push(await progress.step(`${target}: ${what}, ${p} (${i + 1}/${n})`, fn));
        if (p.startsWith('make dev')) {
          // the update's own line comes after its smoke checks
          const r = await waitFor('make dev to report the update', async () => updates.slice(seen).find((u) => u.ok || u.error), { timeoutMs: 120_000, intervalMs: 50 });
          row.phases.push(r.phases ?? {});
        }
      }
    };
    const session = async (target: 'compose' | 'cluster'): Promise<DevSession> => {
      const s = await startDev({ root: ctx.root, target, composeFile: file, env, logs: false, namespace: NAMESPACE, nodePort: NODE_PORT, provider: 'kubeadm', out: devOut, progress: new SilentProgress(), onUpdate: (u) => updates.push(u) });
      sessions.push(s);
      return s;
    };
    if (targets.includes('compose')) {
      const entry = 'http://127.0.0.1:18710';
      const dev = await progress.step('compose: start make dev', () => session('compose'));
      await measure('compose', 'static file', 'make dev (sync)', () => editToLive(page, pageMark, `${entry}/`, tag()));
      await measure('compose', 'api code', 'make dev (compile, sync, restart in place)', () => editToLive(server, apiMark, `${entry}/api/version`, tag()));
      await dev.stop();
      const composeUp = (svc: string) => run(composeArgv(stack, 'up', '-d', '--no-deps', '--build', svc), { ...composeRunOptions(stack), timeoutMs: 900_000 });
      await measure('compose', 'static file', 'manual: compose up -d --build web', async () => {
        const n = tag();
        writeFileSync(page, pageMark(readFileSync(page, 'utf8'), n));
        const t0 = Date.now();
        await composeUp('web');
        await waitFor(`page ${n}`, async () => (await request(`${entry}/`).catch(() => undefined))?.body.includes(n), { timeoutMs: 300_000, intervalMs: 25 });
        return Date.now() - t0;
      });
      await measure('compose', 'api code', 'manual: compose up -d --build api', async () => {
        const n = tag();
        writeFileSync(server, apiMark(readFileSync(server, 'utf8'), n));
        const t0 = Date.now();
        await composeUp('api');
        await waitFor(`api ${n}`, async () => (await request(`${entry}/api/version`).catch(() => undefined))?.body.includes(n), { timeoutMs: 300_000, intervalMs: 25 });
        return Date.now() - t0;
      });
    }
    if (targets.includes('cluster')) {
      const provider = await detect({ root: ctx.root }, 'kubeadm');
      const kubectl = await kubectlFor(provider);
      await progress.step('cluster: the app in namespace stackport-dev', async () => {
        await kubectl.run(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true'], { timeoutMs: 300_000 });
        await deployToNamespace({ stack, provider, kubectl, namespace: NAMESPACE, nodePort: NODE_PORT, workDir: path.join(dir, '.k8s') });
      });
      const ip = (await provider.nodes()).find((n) => n.internalIp)?.internalIp;
      const entry = `http://${ip}:${NODE_PORT}`;
      await waitFor('the app on the cluster', async () => (await request(`${entry}/api/health`).catch(() => undefined))?.status === 200, { timeoutMs: 180_000 });
      const dev = await progress.step('cluster: start make dev', () => session('cluster'));
      await measure('cluster', 'static file', 'make dev (sync)', () => editToLive(page, pageMark, `${entry}/`, tag()));
      await measure('cluster', 'api code', 'make dev (compile, sync, restart in place)', () => editToLive(server, apiMark, `${entry}/api/version`, tag()));
      await dev.stop();
      const target = new ClusterDevTarget({ stack, provider, kubectl, namespace: NAMESPACE, entry });
      const manual = (svc: string, f: string, mark: typeof pageMark, url: string) => async () => {
        const n = tag();
        writeFileSync(f, mark(readFileSync(f, 'utf8'), n));
        const t0 = Date.now();
        const s = dev.services.find((x) => x.name === svc)!;
        await target.rebuild(s, () => undefined);
        await waitFor(`${svc} ${n}`, async () => (await request(url).catch(() => undefined))?.body.includes(n), { timeoutMs: 300_000, intervalMs: 25 });
        return Date.now() - t0;
      };
      await measure('cluster', 'static file', 'manual: build, deliver, roll web', manual('web', page, pageMark, `${entry}/`));
      await measure('cluster', 'api code', 'manual: build, deliver, roll api', manual('api', server, apiMark, `${entry}/api/version`));
      await kubectl.run(['delete', 'namespace', NAMESPACE, '--wait=false']);
    }
  } catch (err) {
    process.stderr.write(`make dev's lines before the failure:\n${devLines}\n`);
    throw err;
  } finally {
    // a session left running keeps its warm toolchain container
    for (const s of sessions) await s.stop().catch(() => undefined);
    await removeProject(PROJECT, new SilentProgress(), { volumes: true }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const s = (ms: number) => (ms / 1000).toFixed(1);
  process.stdout.write(`\nedit-to-live (file written -> new content served at the entry), medians of ${runs} run(s) (manual path: ${manualRuns}), load average at the end ${load()}:\n`);
  const phases = (r: Row) => {
    const names = [...new Set(r.phases.flatMap((p) => Object.keys(p)))];
    return names.map((n) => `${n} ${s(median(r.phases.map((p) => p[n] ?? 0)))}`).join(', ');
  };
  process.stdout.write(`${table(['target', 'change', 'path', 'median s', 'runs s', 'make dev phases, medians s'], rows.map((r) => [r.target, r.what, r.path, s(median(r.runs)), r.runs.map(s).join(' '), phases(r)]))}\n`);
  process.stdout.write('anchors: Skaffold file sync about 1-3 s, Tilt live_update 5-13 s; targets: static on the cluster <= 2 s, api code <= 10 s\n');
}

