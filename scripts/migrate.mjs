#!/usr/bin/env -S npx zx
// Move the running Compose stack into a Kubernetes cluster and prove it with the same smoke suite.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { migrateCommand } = await import('../src/migrate/command.ts');
migrateCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('migrate.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
