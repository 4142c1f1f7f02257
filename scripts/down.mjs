#!/usr/bin/env -S npx zx
// make down: stop and remove the stack's containers; data volumes are kept.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { downCommand } = await import('../src/stack/commands.ts');
downCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('down.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }, { volumes: false }).catch(report);
