import { run, which } from '../../exec/run.js';
import { StackportError } from '../../errors.js';
import type { Progress } from '../../ui/progress.js';

/**
 * Debian packages the kubeadm provider needs, by the command that proves each is there.
 * Installed with apt when missing (root, Debian); the Go toolchain itself must be present.
 * docs/programs.md lists every program stackport runs and where each comes from.
 */
export const HOST_COMMANDS: Record<string, string> = {
  iptables: 'iptables', // kubelet, kube-proxy checks, our FORWARD chain
  ip6tables: 'iptables', // cleanup of the same chains for IPv6
  'iptables-save': 'iptables', // the metrics-server add-on waits for kube-proxy's rule
  'iptables-restore': 'iptables', // the host chains in one transaction
  nft: 'nftables', // cleanup of kube-proxy's nftables tables (absent on a brand-new machine)
  ipset: 'ipset', // cleanup of the policy engine's (kube-router) sets on the host
  conntrack: 'conntrack', // kube-proxy cleanup of UDP flows
  socat: 'socat', // app entry forwarder; kubeadm preflight also looks for it
  ethtool: 'ethtool', // kubeadm preflight (warning when missing)
  ip: 'iproute2',
  nsenter: 'util-linux',
  mount: 'mount',
  runc: 'runc', // the OCI runtime our containerd uses
  busybox: 'busybox-static', // local-path helper image, test image
  debootstrap: 'debootstrap', // Debian base layer of the kube-proxy image
  gcc: 'gcc', // pause
  strip: 'binutils', // pause (comes with gcc)
  tar: 'tar',
};

export async function ensureHostPackages(progress: Progress): Promise<void> {
  const missing = new Set<string>();
  for (const [cmd, pkg] of Object.entries(HOST_COMMANDS)) if (!(await which(cmd))) missing.add(pkg);
  // static linking of pause needs the C library's static archive
  const { stat } = await import('node:fs/promises');
  if (!(await stat('/usr/lib/x86_64-linux-gnu/libc.a').then(() => true, () => false))) missing.add('libc6-dev');
  if (missing.size === 0) return;
  if (!(await which('apt-get'))) {
    throw new StackportError(`missing packages: ${[...missing].join(' ')}`, { hint: 'install them with your package manager' });
  }
  await progress.step(`apt-get install ${[...missing].join(' ')}`, async () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run(['apt-get', 'update', '-q'], { env, what: 'apt-get update', timeoutMs: 10 * 60_000 });
    await run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...missing], { env, what: 'apt-get install', timeoutMs: 20 * 60_000 });
  });
}
