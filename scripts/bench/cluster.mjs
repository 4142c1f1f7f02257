#!/usr/bin/env -S npx zx
// make bench-cluster: minikube's time-to-k8s for fresh, warm and restart `up` (src/bench/cluster-bench.ts).
// Flags: --runs N (default 3), --no-cold (skip the cold build), --no-fresh (keep the running
// cluster: skip the down + up from nothing, which wipes etcd), --no-restart, --rows fresh,warm,restart
// (only these rows: one row per call keeps the shared cluster lock short), --provider kubeadm|kind.
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { benchCluster, parseRows } = await import('../../src/bench/cluster-bench.ts');
const args = process.argv.slice(process.argv.findIndex((a) => a.endsWith('cluster.mjs')) + 1);
const value = (flag, fallback) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : fallback);
Promise.resolve().then(() => benchCluster({
  root: new URL('../..', import.meta.url).pathname,
  runs: Number(value('--runs', '3')),
  cold: !args.includes('--no-cold'),
  fresh: !args.includes('--no-fresh'),
  restart: !args.includes('--no-restart'),
  rows: args.includes('--rows') ? parseRows(value('--rows', '')) : undefined,
  provider: value('--provider', undefined),
})).catch(report);
