#!/usr/bin/env -S npx zx
// up|down|status [--provider kubeadm|kind]: a local Kubernetes cluster (src/cluster/).
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { clusterCommand } = await import('../src/cluster/command.ts');
const args = scriptArgs(import.meta.url);
clusterCommand(args, { root: new URL('..', import.meta.url).pathname }).catch(report);
