#!/usr/bin/env -S npx zx
// Day two on the cluster: status, scale <svc>=<n>, update <svc> --image <ref>, rollback <svc>.
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { k8sCommand } = await import('../src/operate/command.ts');
k8sCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
