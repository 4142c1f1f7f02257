/**
 * make bench-up: `make up` to healthy vs the plain Compose equivalent, on the same stack with
 * images built, from the same state (containers removed, volumes kept), several runs each,
 * alternating. Baseline: `compose up -d --wait` (v2) or `up -d` plus polling health (v1).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConsoleProgress, SilentProgress } from '../ui/progress.js';
import { down, prepareStack, up, waitHealthy } from '../stack/stack.js';
import { median, table } from './stats.js';
import { BENCH_PROJECT, inBenchProject } from './bench-project.js';

export function benchUp(argv: string[], ctx: { root: string }): Promise<void> {
  return inBenchProject(() => benchUpRun(argv, ctx));
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
