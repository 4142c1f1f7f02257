#!/usr/bin/env -S npx zx
// make bench-update: the same page update the Compose way and the Kubernetes way, under load.
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { scriptArgs } = await import('../../src/ui/args.ts');
const { benchUpdate } = await import('../../src/bench/update-bench.ts');
benchUpdate(scriptArgs(import.meta.url), { root: new URL('../..', import.meta.url).pathname }).catch(report);
