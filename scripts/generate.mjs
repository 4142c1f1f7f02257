#!/usr/bin/env -S npx zx
// Compose -> Kubernetes: writes the kustomize tree (base + overlays/kind, overlays/kubeadm).
//   npx zx scripts/generate.mjs -f compose/compose.yaml -o manifests [--check] [--help]
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { generateCommand } = await import('../src/k8s/generate-command.ts');
generateCommand(scriptArgs(import.meta.url))
  .then((code) => process.exit(code))
  .catch(report);
