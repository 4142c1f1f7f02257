#!/usr/bin/env -S npx zx
// make smoke
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { smokeCommand } = await import('../src/stack/commands.ts');
smokeCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
