#!/usr/bin/env -S npx zx
// make bench-migrate: migrate from a running Compose stack, warm caches, several runs, medians.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../../src/ui/report.ts');
const { benchMigrate } = await import('../../src/bench/migrate-bench.ts');
benchMigrate(process.argv.slice(process.argv.findIndex((a) => a.endsWith('bench/migrate.mjs')) + 1), { root: new URL('../..', import.meta.url).pathname }).catch(report);
