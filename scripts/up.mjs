#!/usr/bin/env -S npx zx
// make up: engine, Compose, images, credentials, build, start, wait until healthy, smoke test.
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { upCommand } = await import('../src/stack/commands.ts');
upCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
