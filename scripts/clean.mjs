#!/usr/bin/env -S npx zx
// make clean: like down, and removes the data volumes too.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { downCommand } = await import('../src/stack/commands.ts');
downCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('clean.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }, { volumes: true }).catch(report);
