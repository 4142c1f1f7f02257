#!/usr/bin/env -S npx zx
// make bench-update: the same page update the Compose way and the Kubernetes way, under load.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../../src/ui/report.ts');
const { benchUpdate } = await import('../../src/bench/update-bench.ts');
benchUpdate(process.argv.slice(process.argv.findIndex((a) => a.endsWith('bench/update.mjs')) + 1), { root: new URL('../..', import.meta.url).pathname }).catch(report);
