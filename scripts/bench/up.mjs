#!/usr/bin/env -S npx zx
// make bench-up: make up vs plain Compose, side by side (--runs=N, default 5).
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../../src/ui/report.ts');
const { benchUp } = await import('../../src/bench/up-bench.ts');
benchUp(process.argv.slice(process.argv.findIndex((a) => a.endsWith('bench/up.mjs') || a.endsWith('bench-up.mjs')) + 1), { root: new URL('../..', import.meta.url).pathname }).catch(report);
