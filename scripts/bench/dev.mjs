#!/usr/bin/env -S npx zx
// make bench-dev: edit-to-live for a static file and for api code, make dev vs the manual rebuild path, Compose and cluster (--runs=N, --target compose|cluster).
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { scriptArgs } = await import('../../src/ui/args.ts');
const { benchDev } = await import('../../src/bench/dev-bench.ts');
benchDev(scriptArgs(import.meta.url), { root: new URL('../..', import.meta.url).pathname }).catch(report);
