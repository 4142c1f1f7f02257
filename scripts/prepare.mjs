#!/usr/bin/env -S npx zx
// make prepare: the cold builds the integration and e2e tests need, each timed and budgeted (src/prepare/).
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { prepareCommand } = await import('../src/prepare/command.ts');
const args = scriptArgs(import.meta.url);
prepareCommand(args, { root: new URL('..', import.meta.url).pathname }).catch(report);
