#!/usr/bin/env -S npx zx
// make down: stop and remove the stack's containers; data volumes are kept.
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { downCommand } = await import('../src/stack/commands.ts');
downCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }, { volumes: false }).catch(report);
