#!/usr/bin/env -S npx zx
// Day two on the cluster: status, scale <svc>=<n>, update <svc> --image <ref>, rollback <svc>.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { k8sCommand } = await import('../src/operate/command.ts');
k8sCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('k8s.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
