#!/usr/bin/env -S npx zx
// make bench-up: make up vs plain Compose, side by side (--runs=N, default 5).
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { scriptArgs } = await import('../../src/ui/args.ts');
const { benchUp } = await import('../../src/bench/up-bench.ts');
benchUp(scriptArgs(import.meta.url), { root: new URL('../..', import.meta.url).pathname }).catch(report);
