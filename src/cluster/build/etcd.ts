import { FAKE_COMMIT } from './components.js';
import type { GoComponent } from './go-build.js';

/**
 * etcd for the stacked control plane. kubeadm runs etcd as a static pod from the image it names
 * (`kubeadm config images list`: registry.k8s.io/etcd:3.6.5-0 for v1.34.4) and renders etcd's
 * flags from that tag (>= 3.6.0: --feature-gates=InitialCorruptCheck=true, no --experimental-*),
 * so the binary inside must be that exact release: we build go.etcd.io/etcd/server/v3 at the tag
 * without its packaging suffix (v3.6.5), which the Go module proxy serves.
 */
export function etcdModuleVersion(imageTag: string): string {
  return `v${imageTag.replace(/-\d+$/, '')}`;
}

/** etcd server: its go.mod replaces its siblings with ../, so it needs a wrapper; module root is the main package. */
export function etcdComponent(version: string): GoComponent {
  return {
    name: 'etcd',
    module: 'go.etcd.io/etcd/server/v3',
    version,
    go: '1.24',
    programs: [{ pkg: 'go.etcd.io/etcd/server/v3', out: 'etcd' }],
    ldflags: `-X go.etcd.io/etcd/api/v3/version.GitSHA=${FAKE_COMMIT.slice(0, 7)}`,
  };
}

