#!/usr/bin/env -S npx zx
// make bench-autoscale: a bounded load run against the app entry drives the web HPA out and back
// in; prints time to scale out, peak replicas, time to scale in, failed requests, and draws
// replicas + request latency over time to docs/autoscale.svg (src/bench/autoscale-bench.ts).
// Needs the kubeadm cluster with the demo app migrated (make cluster-up, make up, make migrate).
// Flags: --rate N (req/s, default 150; raised in steps of N while the HPA reads under 1.3x its target),
//        --max-rate N (the ramp's ceiling, default 2N), --seconds N (load duration, default 100),
//        --scale-down-window N (s, default 15), --svg <path> (default docs/autoscale.svg),
//        --url http://127.0.0.1:PORT/ (default: the cluster's entry, http://127.0.0.1:8090).
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { scriptArgs } = await import('../../src/ui/args.ts');
const { benchAutoscale } = await import('../../src/bench/autoscale-bench.ts');
const args = scriptArgs(import.meta.url);
const value = (flag, fallback) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : fallback);
const root = new URL('../..', import.meta.url).pathname;
benchAutoscale({
  root,
  ratePerSecond: Number(value('--rate', '150')),
  maxRatePerSecond: value('--max-rate', undefined) === undefined ? undefined : Number(value('--max-rate')),
  loadMs: Number(value('--seconds', '100')) * 1000,
  scaleDownWindowSeconds: Number(value('--scale-down-window', '15')),
  svg: value('--svg', `${root}docs/autoscale.svg`),
  url: value('--url', undefined),
}).catch(report);
