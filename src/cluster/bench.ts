import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { formatMs, SilentProgress } from '../ui/progress.js';
import { detect } from './provider.js';

/**
 * `make bench-cluster`: cold build (fresh cluster cache and Go build cache, Go modules already
 * downloaded; once, it takes many minutes), then N times: warm `up` from nothing to a Ready node
 * with system pods ready, and `down`. Prints every run and the medians.
 */
export interface BenchOptions {
  root: string;
  runs: number;
  cold: boolean;
  provider?: string;
  out?: NodeJS.WritableStream;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

export async function benchCluster(o: BenchOptions): Promise<void> {
  const out = o.out ?? process.stdout;
  const say = (l: string) => out.write(`${l}\n`);
  if (o.cold) {
    const tmp = await mkdtemp(join(o.root, '.stackport', 'bench-cold-'));
    try {
      say('cold build: fresh STACKPORT_CACHE and GOCACHE (module downloads cached) …');
      const started = Date.now();
      const r = await run(['node', join(o.root, 'scripts', 'cluster.mjs'), 'build', ...(o.provider ? ['--provider', o.provider] : [])], {
        env: { ...process.env, STACKPORT_CACHE: join(tmp, 'cache'), GOCACHE: join(tmp, 'gocache') },
        timeoutMs: 120 * 60_000,
        what: 'cold build',
      });
      say(`cold build: ${formatMs(Date.now() - started)}`);
      say(r.stderr.split('\n').filter((l) => l.startsWith('  ') || l.startsWith('build')).join('\n'));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  if (o.provider === 'kind') {
    const { benchKind } = await import('./kind-bench.js');
    return benchKind({ root: o.root, runs: o.runs, out });
  }
  const provider = await detect({ root: o.root }, o.provider);
  await provider.delete({ progress: new SilentProgress() });
  const ups: number[] = [];
  const downs: number[] = [];
  for (let i = 1; i <= o.runs; i++) {
    const p = new SilentProgress();
    let t = Date.now();
    await provider.create({ progress: p });
    const up = Date.now() - t;
    const nodes = await provider.nodes();
    t = Date.now();
    await provider.delete({ progress: new SilentProgress() });
    const down = Date.now() - t;
    ups.push(up);
    downs.push(down);
    const steps = p.timings.map((s) => `${s.name} ${formatMs(s.ms)}`).join(', ');
    say(`run ${i}: up to Ready ${formatMs(up)} (${nodes.filter((n) => n.ready).length}/${nodes.length} Ready; ${steps}); down ${formatMs(down)}`);
  }
  say(`median of ${o.runs}: warm up to Ready ${formatMs(median(ups))}, down ${formatMs(median(downs))}`);
}
