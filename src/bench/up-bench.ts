/**
 * make bench-up: `make up` to healthy vs the plain Compose equivalent, on the same stack with
 * images built, from the same state (containers removed, volumes kept), several runs each,
 * alternating. Baseline: `compose up -d --wait` (v2) or `up -d` plus polling health (v1).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConsoleProgress, SilentProgress } from '../ui/progress.js';
import { down, prepareStack, removeProject, up, waitHealthy } from '../stack/stack.js';
import { BENCH_PROJECT, median, table } from './stats.js';

/** The bench's Compose project goes when the bench ends, however it ends (its containers would
 * otherwise restart with every dockerd start and take CPU from everything after). */
export async function benchUp(argv: string[], ctx: { root: string }): Promise<void> {
  try {
    await benchUpRun(argv, ctx);
  } finally {
    await removeProject(BENCH_PROJECT, new SilentProgress(), { volumes: true }).catch(() => undefined);
  }
}

async function benchUpRun(argv: string[], ctx: { root: string }): Promise<void> {
  const runs = Number(argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5);
  const project = BENCH_PROJECT;
  const env = { ...process.env, STACKPORT_PROJECT: project, WEB_PORT: '18095', STACKPORT_TIMINGS: '0' };
  const progress = new ConsoleProgress();
  const stack = await prepareStack({ root: ctx.root, progress, env, project });
  await progress.step('warm-up: build images, first start', async () => {
    await up(stack);
    await down(stack);
  });
  const cli = stack.cli;
  const base = [...cli.argv, '-f', stack.composeFile, '-p', project, '--env-file', stack.envFile];
  const plain = async (): Promise<number> => {
    const t = Date.now();
    if (cli.generation === 'v2') {
      const r = spawnSync(base[0]!, [...base.slice(1), 'up', '-d', '--wait'], { env, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`plain compose up failed (${r.status})`);
    } else {
      const r = spawnSync(base[0]!, [...base.slice(1), 'up', '-d'], { env, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`plain compose up failed (${r.status})`);
      await waitHealthy({ ...stack, progress: new SilentProgress() }, 180_000);
    }
    return Date.now() - t;
  };
  const stackport = (): number => {
    const t = Date.now();
    const r = spawnSync(path.join(ctx.root, 'node_modules', '.bin', 'zx'), [path.join(ctx.root, 'scripts', 'up.mjs'), '--no-smoke'], { env, stdio: 'ignore', cwd: ctx.root });
    if (r.status !== 0) throw new Error(`make up failed (${r.status})`);
    return Date.now() - t;
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    await progress.step(`run ${i + 1}/${runs}`, async () => {
      a.push(await plain());
      await down({ ...stack, progress: new SilentProgress() });
      b.push(stackport());
      await down({ ...stack, progress: new SilentProgress() });
    });
  }
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const baseline = cli.generation === 'v2' ? 'compose up -d --wait' : 'compose up -d + poll health';
  const rows = a.map((x, i) => [`run ${i + 1}`, s(x), s(b[i]!), (b[i]! / x).toFixed(2)]);
  rows.push(['median', s(median(a)), s(median(b)), (median(b) / median(a)).toFixed(2)]);
  process.stdout.write(`\nCompose ${cli.generation} ${cli.version}, images ${stack.imageSource}, from containers removed (volumes kept) to all healthy:\n`);
  process.stdout.write(`${table(['', `${baseline} (s)`, 'make up --no-smoke (s)', 'ratio'], rows)}\n`);
  await down(stack, { volumes: true });
}
