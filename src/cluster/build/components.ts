import type { GoComponent } from './go-build.js';
import { minorOf, stagingVersion } from './versions.js';

/** k8s.io/kubernetes' go.mod replaces these 31 staging modules with ./staging/src/k8s.io/<name> (1.33/1.34). */
export const STAGING_MODULES = [
  'api', 'apiextensions-apiserver', 'apimachinery', 'apiserver', 'cli-runtime', 'client-go', 'cloud-provider',
  'cluster-bootstrap', 'code-generator', 'component-base', 'component-helpers', 'controller-manager', 'cri-api',
  'cri-client', 'csi-translation-lib', 'dynamic-resource-allocation', 'endpointslice', 'externaljwt', 'kms',
  'kube-aggregator', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler', 'kubectl', 'kubelet', 'metrics',
  'mount-utils', 'pod-security-admission', 'sample-apiserver', 'sample-cli-plugin', 'sample-controller',
] as const;

export const KUBERNETES_BINARIES = [
  'kubeadm', 'kubelet', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl',
] as const;

/** Any fixed 40-hex commit: kubeadm only parses the version, never the commit. */
export const FAKE_COMMIT = '0'.repeat(40);

/**
 * -X flags that make every binary report the release (kubeadm compares its own version, the
 * kubelet's and kubernetesVersion). Both version packages: component-base (used by the
 * components) and client-go (used by kubectl's client version and user agents).
 */
export function kubernetesLdflags(version: string, buildDate = '2026-01-01T00:00:00Z'): string {
  const minor = minorOf(version);
  const vars: Record<string, string> = {
    gitVersion: version, gitMajor: '1', gitMinor: minor, gitCommit: FAKE_COMMIT, gitTreeState: 'clean', buildDate,
  };
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => Object.entries(vars).map(([k, v]) => `-X ${pkg}.${k}=${v}`))
    .join(' ');
}

export function kubernetesComponent(version: string): GoComponent {
  const staging = stagingVersion(version);
  return {
    name: 'kubernetes',
    module: 'k8s.io/kubernetes',
    version,
    go: '1.24.0',
    // godebug lines of dependencies are ignored: copy k/k's own, else Go 1.26 defaults apply.
    goModExtra: [
      'godebug default=go1.24',
      '',
      'replace (',
      ...STAGING_MODULES.map((m) => `\tk8s.io/${m} => k8s.io/${m} ${staging}`),
      ')',
      '',
    ].join('\n'),
    programs: KUBERNETES_BINARIES.map((b) => ({ pkg: `k8s.io/kubernetes/cmd/${b}`, out: b })),
    // upstream's tags (hack/lib/golang.sh); grpcnotrace is the 1.34 default
    tags: ['selinux', 'notest', 'grpcnotrace'],
    ldflags: kubernetesLdflags(version),
  };
}

export const CNI_PLUGINS = [
  ['main', 'bridge'], ['main', 'loopback'], ['ipam', 'host-local'], ['meta', 'portmap'], ['meta', 'firewall'],
] as const;

export function cniComponent(version: string): GoComponent {
  return {
    name: 'cni-plugins',
    module: 'github.com/containernetworking/plugins',
    version,
    go: '1.23.0',
    programs: CNI_PLUGINS.map(([kind, name]) => ({ pkg: `github.com/containernetworking/plugins/plugins/${kind}/${name}`, out: name })),
    ldflags: `-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${version}`,
  };
}

/** containerd 2.x: its go.mod carries an exclude block, which the wrapper repeats to resolve as upstream does. */
export function containerdComponent(version: string): GoComponent {
  const m = 'github.com/containerd/containerd/v2';
  return {
    name: 'containerd',
    module: m,
    version,
    go: '1.24.2',
    goModExtra: [
      'exclude (',
      '\tgithub.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc',
      '\tgithub.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2',
      ')',
      '',
    ].join('\n'),
    programs: [
      { pkg: `${m}/cmd/containerd`, out: 'containerd' },
      { pkg: `${m}/cmd/containerd-shim-runc-v2`, out: 'containerd-shim-runc-v2' },
      { pkg: `${m}/cmd/ctr`, out: 'ctr' },
    ],
    // no cgo: leave out the btrfs snapshotter (cgo) like upstream's static builds do
    tags: ['no_btrfs', 'urfave_cli_no_docs'],
    ldflags: `-X ${m}/version.Version=${version} -X ${m}/version.Revision=${FAKE_COMMIT} -X ${m}/version.Package=github.com/containerd/containerd/v2`,
  };
}

export function localPathComponent(version: string): GoComponent {
  return {
    name: 'local-path-provisioner',
    module: 'github.com/rancher/local-path-provisioner',
    version,
    go: '1.23.0',
    programs: [{ pkg: 'github.com/rancher/local-path-provisioner', out: 'local-path-provisioner' }],
    ldflags: `-X main.VERSION=${version}`,
  };
}
