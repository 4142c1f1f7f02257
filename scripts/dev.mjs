#!/usr/bin/env -S npx zx
// make dev: watch the services' build contexts and put each edit live (sync or rebuild+roll), on Compose or the cluster.
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { devCommand } = await import('../src/dev/dev.ts');
devCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
