#!/usr/bin/env -S npx zx
// make bench-migrate: migrate from a running Compose stack, warm caches, several runs, medians.
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { scriptArgs } = await import('../../src/ui/args.ts');
const { benchMigrate } = await import('../../src/bench/migrate-bench.ts');
benchMigrate(scriptArgs(import.meta.url), { root: new URL('../..', import.meta.url).pathname }).catch(report);
