/**
 * make bench-migrate: from a running Compose stack to the smoke suite passing on the cluster,
 * with warm caches (cluster running, images built and already on the node), several runs.
 * Before each run the app and its volumes are removed from the cluster, so every run really
 * applies, rolls out and moves the data. Prints each step's time and the total, medians.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConsoleProgress, SilentProgress } from '../ui/progress.js';
import { detect } from '../cluster/providers/detect.js';
import { kubectlFor } from '../migrate/kube.js';
import { prepareStack, up } from '../stack/stack.js';
import { median, table } from './stats.js';
import { BENCH_PROJECT, inBenchProject } from './bench-project.js';
import { APP_KINDS, APP_SELECTOR } from '../migrate/migrate.js';

export function parseReport(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  const at = stdout.indexOf('migration report:');
  if (at < 0) return out;
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^ {2}(\S.*?)\s{2,}([\d.]+) (ms|s|min)(?: ([\d]+) s)?/.exec(line);
    if (!m) continue;
    const n = Number(m[2]);
    out[m[1]!.trim()] = m[3] === 'ms' ? n : m[3] === 's' ? n * 1000 : n * 60_000 + Number(m[4] ?? 0) * 1000;
  }
  return out;
}

export function benchMigrate(argv: string[], ctx: { root: string }): Promise<void> {
  return inBenchProject(() => benchMigrateRun(argv, ctx));
}

async function benchMigrateRun(argv: string[], ctx: { root: string }): Promise<void> {
  const runs = Number(argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
  const providerName = argv.find((a) => a.startsWith('--provider='))?.slice(11);
  const progress = new ConsoleProgress();
  const env = { ...process.env, STACKPORT_PROJECT: BENCH_PROJECT, WEB_PORT: '18095', STACKPORT_TIMINGS: '0' };
  const stack = await prepareStack({ root: ctx.root, progress, env });
  await progress.step('Compose stack up', () => up(stack));
  const provider = await detect({ root: ctx.root }, providerName);
  await provider.create({ progress });
  const kubectl = await kubectlFor(provider);
  const zx = path.join(ctx.root, 'node_modules', '.bin', 'zx');
  const migrateArgs = [path.join(ctx.root, 'scripts', 'migrate.mjs'), '--provider', provider.name];
  await progress.step('warm-up migration (images onto the node)', async () => {
    const r = spawnSync(zx, [...migrateArgs, '--force-data'], { env, encoding: 'utf8', cwd: ctx.root });
    if (r.status !== 0) throw new Error(`migrate failed:\n${r.stderr.slice(-2000)}`);
  });
  const results: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    await new SilentProgress().step('reset', async () => {
      await kubectl.run(['delete', APP_KINDS, '-l', APP_SELECTOR, '--wait=true', '--timeout=180s']);
    });
    const r = await progress.step(`run ${i + 1}/${runs}: migrate`, async () => {
      const t = Date.now();
      const p = spawnSync(zx, migrateArgs, { env, encoding: 'utf8', cwd: ctx.root });
      if (p.status !== 0) throw new Error(`migrate failed:\n${p.stderr.slice(-2000)}`);
      return { ...parseReport(p.stdout), 'wall clock (with process start)': Date.now() - t };
    });
    results.push(r);
  }
  const steps = Object.keys(results[0] ?? {});
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const rows = steps.map((k) => [k, ...results.map((r) => s(r[k] ?? NaN)), s(median(results.map((r) => r[k] ?? NaN)))]);
  process.stdout.write(`\nmigrate, warm caches, ${provider.name}, app removed from the cluster before each run (seconds):\n`);
  process.stdout.write(`${table(['step', ...results.map((_, i) => `run ${i + 1}`), 'median'], rows)}\n`);
  const total = median(results.map((r) => r.total ?? NaN));
  process.stdout.write(`median total ${s(total)} s (target: at most 90 s) — ${total <= 90_000 ? 'met' : 'NOT met'}\n`);
}
