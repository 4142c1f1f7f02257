#!/usr/bin/env -S npx zx
// up|down|status [--provider kubeadm|kind]: a local Kubernetes cluster (src/cluster/).
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { clusterCommand } = await import('../src/cluster/command.ts');
// under zx argv is [node, zx, script, ...args]; under node [node, script, ...args]
const args = process.argv.slice(process.argv.findIndex((a) => a.endsWith('cluster.mjs')) + 1);
clusterCommand(args, { root: new URL('..', import.meta.url).pathname }).catch(report);
