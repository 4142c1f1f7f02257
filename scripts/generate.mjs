#!/usr/bin/env -S npx zx
// Compose -> Kubernetes: writes the kustomize tree (base + overlays/kind, overlays/kubeadm).
//   npx zx scripts/generate.mjs -f compose/compose.yaml -o manifests [--check] [--help]
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { generateCommand } = await import('../src/k8s/generate-command.ts');
// Arguments after this script's path (zx puts its own path first; plain node does not).
const self = realpathSync(fileURLToPath(import.meta.url));
const at = process.argv.findIndex((a, i) => i > 0 && (() => { try { return realpathSync(a) === self; } catch { return false; } })());
generateCommand(process.argv.slice(at >= 0 ? at + 1 : 2))
  .then((code) => process.exit(code))
  .catch(report);
