/**
 * The pinned inputs of the kubeadm provider. Everything else (etcd, CoreDNS and pause tags) is
 * read from the built kubeadm (`kubeadm config images list`), so the images always carry the
 * names kubeadm asks for.
 */
export const KUBERNETES_VERSION = 'v1.34.4';
/** containerd built from its Go module; 1.34's tested floor is 2.1.3+ (see docs/cluster.md). */
export const CONTAINERD_VERSION = 'v2.1.9';
/** CNI plugins (bridge, host-local, loopback, portmap, firewall). */
export const CNI_PLUGINS_VERSION = 'v1.7.1';
/** rancher/local-path-provisioner: the newest tag the Go module proxy serves (v0.0.31+ are refused). */
export const LOCAL_PATH_VERSION = 'v0.0.30';

export function minorOf(version: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`not a version: ${version}`);
  return m[2]!;
}

/** "v1.34.4" → "0.34.4": the version of the published staging modules of that release. */
export function stagingVersion(k8s: string): string {
  return `v0.${k8s.replace(/^v1\./, '')}`;
}
