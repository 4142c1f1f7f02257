#!/usr/bin/env -S npx zx
// make status
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { statusCommand } = await import('../src/stack/commands.ts');
statusCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('status.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
