#!/usr/bin/env -S npx zx
// make smoke
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { smokeCommand } = await import('../src/stack/commands.ts');
smokeCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('smoke.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
