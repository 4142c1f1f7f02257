#!/usr/bin/env -S npx zx
// make logs
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { logsCommand } = await import('../src/stack/commands.ts');
logsCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
