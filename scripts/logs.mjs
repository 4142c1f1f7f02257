#!/usr/bin/env -S npx zx
// make logs
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { logsCommand } = await import('../src/stack/commands.ts');
logsCommand(process.argv.slice(2), { root: new URL('..', import.meta.url).pathname }).catch(report);
