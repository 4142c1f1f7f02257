#!/usr/bin/env -S npx zx
// Move the running Compose stack into a Kubernetes cluster and prove it with the same smoke suite.
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { migrateCommand } = await import('../src/migrate/command.ts');
migrateCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
