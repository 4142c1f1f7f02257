/**
 * The essay's argument, measured: the same page update (web version N -> M) done the
 * Compose way (new image, `up -d`: the container is replaced) and the Kubernetes way (a
 * rolling update), each under the same bounded request loop on 127.0.0.1. Used by the e2e
 * proof and by `make bench-update`, which also draws both timelines into one SVG.
 */
import path from 'node:path';
import * as compose from 'docker-compose';
import { buildChanged, prepareStack, waitHealthy, type Stack } from '../stack/stack.js';
import { BENCH_PROJECT, inBenchProject } from './bench-project.js';
import { SilentProgress, type Progress } from '../ui/progress.js';
import { pageVersion, startLoop, summarize, type LoopSummary, type RequestRecord } from '../load/request-loop.js';
import type { TimelineEvent } from '../load/timeline-svg.js';
import { ensureImage, updateImage, type OpsContext } from '../operate/operate.js';
import { waitFor } from '../exec/wait.js';

export interface UpdateRun {
  how: 'compose' | 'kubernetes';
  records: RequestRecord[];
  events: TimelineEvent[];
  summary: LoopSummary;
  /** From the command's start to the new version answering alone. */
  updateMs: number;
}

const RATE = 20;
const QUIET_MS = 3000;

async function underLoad(url: string, action: (mark: (label: string) => void) => Promise<void>): Promise<Omit<UpdateRun, 'how'>> {
  const loop = startLoop({ url, ratePerSecond: RATE, maxDurationMs: 240_000, tagOf: pageVersion, expect: 'Hello Docker!' });
  const events: TimelineEvent[] = [];
  const mark = (label: string) => events.push({ at: loop.now(), label });
  await new Promise((r) => setTimeout(r, QUIET_MS));
  const started = loop.now();
  mark('update starts');
  await action(mark);
  const updateMs = loop.now() - started;
  mark('update done');
  await new Promise((r) => setTimeout(r, QUIET_MS));
  const records = await loop.stop();
  return { records, events, summary: summarize(records), updateMs };
}

/** Kubernetes: `k8s.mjs update web --image stackport-web:<version>` (image delivered first, outside the timed window). */
export async function kubernetesUpdate(c: OpsContext, url: string, image: string): Promise<UpdateRun> {
  await ensureImage(c, image);
  const run = await underLoad(url, async (mark) => {
    await updateImage(c, 'web', image);
    mark('rollout complete');
    // Old pods keep serving while they terminate (that is why nothing fails): "done" is when
    // the last of them is gone.
    await waitOldPodsGone(c, 'web', image);
    mark('old pods gone');
  });
  return { how: 'kubernetes', ...run };
}

/** Compose: build web at `version` (outside the timed window), then `up -d web`, then wait until healthy. */
export async function composeUpdate(root: string, env: NodeJS.ProcessEnv, version: string, progress: Progress = new SilentProgress()): Promise<UpdateRun> {
  const stack: Stack = await prepareStack({ root, progress, env: { ...env, WEB_VERSION: version } });
  await buildChanged(stack);
  const web = stack.config.services.find((s) => s.name === 'web')!.ports[0]!;
  const url = `http://127.0.0.1:${web.published}/`;
  const run = await underLoad(url, async (mark) => {
    await compose.upMany(['web'], {
      cwd: path.dirname(stack.composeFile),
      config: stack.composeFile,
      executable: stack.cli.executable,
      composeOptions: ['-p', stack.project, '--env-file', stack.envFile],
      commandOptions: ['--no-build', '--no-deps'],
      env: stack.env,
    });
    mark('container replaced');
    await waitHealthy(stack, 120_000);
    mark('healthy');
  });
  return { how: 'compose', ...run };
}

/** Waits until every pod of `service` (terminating ones included) runs `image`. */
export async function waitOldPodsGone(c: OpsContext, service: string, image: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`the old ${service} pods to be gone`, async () => {
    const list = await c.kubectl.json<{ items: { spec: { containers: { image: string }[] } }[] }>(['get', 'pods', '-n', c.namespace, '-l', `app.kubernetes.io/name=${service}`]);
    return list.items.every((p) => p.spec.containers[0]?.image === image);
  }, { timeoutMs, intervalMs: 250 });
}

export function versionsAfter(run: UpdateRun, ms: number): string[] {
  return [...new Set(run.records.filter((r) => r.ok && r.at >= ms).map((r) => r.tag ?? '?'))];
}

// ---------------------------------------------------------------- make bench-update

/**
 * make bench-update: the page update v1 -> v2 with one web instance on each side (a Compose
 * container; a Kubernetes Deployment), under the same 20 requests/s loop: failed requests and
 * update time side by side, and both timelines drawn into one SVG.
 */
export function benchUpdate(argv: string[], ctx: { root: string }): Promise<void> {
  return inBenchProject(() => benchUpdateRun(argv, ctx));
}

async function benchUpdateRun(argv: string[], ctx: { root: string }): Promise<void> {
  const { ConsoleProgress } = await import('../ui/progress.js');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { renderTimeline } = await import('../load/timeline-svg.js');
  const { detect } = await import('../cluster/providers/detect.js');
  const { kubectlFor } = await import('../migrate/kube.js');
  const { migrate } = await import('../migrate/migrate.js');
  const { table } = await import('./stats.js');
  const { up } = await import('../stack/stack.js');
  const { scale } = await import('../operate/operate.js');
  const svgPath = path.resolve(ctx.root, argv.find((a) => a.startsWith('--svg='))?.slice(6) ?? 'docs/rolling-update.svg');
  const progress = new ConsoleProgress();
  const env = { ...process.env, STACKPORT_PROJECT: BENCH_PROJECT, WEB_PORT: '18095' };

  const stack = await prepareStack({ root: ctx.root, progress, env: { ...env, WEB_VERSION: '1' } });
  await progress.step('Compose stack (web version 1)', async () => {
    await up(stack);
  });
  const provider = await detect({ root: ctx.root }, argv.find((a) => a.startsWith('--provider='))?.slice(11));
  await progress.step(`app on the ${provider.name} cluster (web version 1, one pod)`, async () => {
    const { APP_KINDS, APP_SELECTOR } = await import('../migrate/migrate.js');
    await provider.create({ progress: new SilentProgress() });
    await (await kubectlFor(provider)).run(['delete', APP_KINDS, '-l', APP_SELECTOR, '--wait=true', '--timeout=180s']);
    await migrate({ root: ctx.root, progress: new SilentProgress(), out: { write: () => true } as unknown as NodeJS.WritableStream, env, provider: provider.name, forceData: true });
  });
  const kubectl = await kubectlFor(provider);
  const ops: OpsContext = { kubectl, provider, namespace: 'default', progress: new SilentProgress() };
  await scale(ops, 'web', 1);
  const v2 = await prepareStack({ root: ctx.root, progress: new SilentProgress(), env: { ...env, WEB_VERSION: '2' } });
  await progress.step('build web version 2', async () => {
    await buildChanged(v2);
  });

  const k8s = await progress.step('Kubernetes: rolling update web 1 -> 2 under load', () => kubernetesUpdate(ops, `${provider.entry()}/`, 'stackport-web:2'));
  const cmp = await progress.step('Compose: up -d web 1 -> 2 under load', () => composeUpdate(ctx.root, env, '2'));

  const row = (r: UpdateRun) => [
    r.how === 'compose' ? `Compose (${stack.cli.generation} up -d)` : `Kubernetes (${provider.name}, rolling update)`,
    String(r.summary.total),
    String(r.summary.failed),
    Object.entries(r.summary.errors).map(([k, v]) => `${k}×${v}`).join(' ') || '-',
    (r.updateMs / 1000).toFixed(1),
    String(r.summary.p99),
  ];
  process.stdout.write(`\npage update v1 -> v2, one web instance, ${RATE} requests/s on 127.0.0.1, new connection per request:\n`);
  process.stdout.write(`${table(['', 'requests', 'failed', 'errors', 'update (s)', 'p99 (ms)'], [row(cmp), row(k8s)])}\n`);
  mkdirSync(path.dirname(svgPath), { recursive: true });
  writeFileSync(
    svgPath,
    renderTimeline(
      [
        { title: `Compose: new image, up -d (the container is replaced) — ${cmp.summary.failed} failed`, records: cmp.records, events: cmp.events },
        { title: `Kubernetes: rolling update (new pod ready before the old one goes) — ${k8s.summary.failed} failed`, records: k8s.records, events: k8s.events },
      ],
      { title: 'The same page update under load: each mark is a request (height = latency)' },
    ),
  );
  process.stdout.write(`timelines: ${path.relative(process.cwd(), svgPath)}\n`);
  // Leave both at version 1 again.
  await updateImage(ops, 'web', 'stackport-web:1');
  await composeUpdate(ctx.root, env, '1');
}
