#!/usr/bin/env -S npx zx
// make bench-deliver: images to a node through a registry vs docker save | ctr import vs kind load (--runs=N --first-runs=N).
import { register } from '../lib/load.mjs';
register();
const { report } = await import('../../src/ui/report.ts');
const { scriptArgs } = await import('../../src/ui/args.ts');
const { benchDeliver } = await import('../../src/bench/deliver-bench.ts');
benchDeliver(scriptArgs(import.meta.url), { root: new URL('../..', import.meta.url).pathname }).catch(report);
