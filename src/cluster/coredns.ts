import { FAKE_COMMIT } from './components.js';
import type { GoComponent } from './go-build.js';

/**
 * CoreDNS at the version kubeadm names (v1.12.1 for 1.34), built from its module (no replace or
 * exclude, main package at the root). kubeadm's addon/coredns phase deploys it; its Deployment
 * passes only `-conf /etc/coredns/Corefile`, so the image's entrypoint is /coredns.
 */
export function corednsComponent(version: string): GoComponent {
  return {
    name: 'coredns',
    module: 'github.com/coredns/coredns',
    version,
    go: '1.24',
    programs: [{ pkg: 'github.com/coredns/coredns', out: 'coredns' }],
    ldflags: `-X github.com/coredns/coredns/coremain.GitCommit=${FAKE_COMMIT.slice(0, 7)}`,
  };
}

