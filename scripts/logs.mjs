#!/usr/bin/env -S npx zx
// make logs
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { logsCommand } = await import('../src/stack/commands.ts');
logsCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('logs.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
