#!/usr/bin/env -S npx zx
// make bench-cluster: cold build, warm up to Ready, down; several runs, medians (src/cluster/bench.ts).
// Flags: --runs N (default 3), --no-cold (skip the cold build), --provider kubeadm|kind.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../../src/ui/report.ts');
const { benchCluster } = await import('../../src/cluster/bench.ts');
const args = process.argv.slice(process.argv.findIndex((a) => a.endsWith('cluster.mjs')) + 1);
const value = (flag, fallback) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : fallback);
benchCluster({
  root: new URL('../..', import.meta.url).pathname,
  runs: Number(value('--runs', '3')),
  cold: !args.includes('--no-cold'),
  provider: value('--provider', undefined),
}).catch(report);
