import { existsSync } from 'node:fs';
import { StackportError } from '../../errors.js';
import { probe } from '../../exec/run.js';
import { KUBERNETES_VERSION } from '../build/versions.js';
import type { KubeconfigOptions } from './kubeconfig.js';
import type { ClusterProvider, ProviderContext, ProviderName } from './provider.js';

/**
 * Provider selection, on its own: this file imports the providers, and none of them imports it
 * (they import only the interface, provider.ts). Each provider module is loaded only when chosen.
 */
export interface DetectOptions {
  /** kind only: 1 node (kind/cluster.yaml) or 3 (kind/multi-node.yaml) */
  nodes?: number;
  /** kind only: a kind config file */
  config?: string;
  /** kubeconfig only (src/cluster/providers/kubeconfig.ts) */
  remote?: KubeconfigOptions;
}

/**
 * Picks a provider like kind picks docker or podman: an explicit choice (`--provider`, then
 * STACKPORT_PROVIDER) wins. Otherwise the cluster that already exists (kind's node containers, or
 * kubeadm's state on this host); otherwise kind where the Docker engine answers and a kind node
 * image is there (ours, built locally, or STACKPORT_KIND_NODE_IMAGE); otherwise kubeadm when we
 * are root on Linux (it runs on the host itself), else kind.
 */
export async function detect(ctx: ProviderContext, wanted?: string, options: DetectOptions = {}): Promise<ClusterProvider> {
  const choice = wanted ?? process.env.STACKPORT_PROVIDER ?? (await autoChoice());
  if (choice === 'kubeadm') {
    const { KubeadmProvider } = await import('./kubeadm.js');
    return new KubeadmProvider(ctx);
  }
  if (choice === 'kind') {
    const { KindProvider } = await import('./kind.js');
    return new KindProvider(ctx, options);
  }
  if (choice === 'kubeconfig') {
    const { KubeconfigProvider } = await import('./kubeconfig.js');
    return new KubeconfigProvider(ctx, options.remote);
  }
  throw new StackportError(`unknown provider ${choice}`, { hint: 'use --provider kubeadm, kind or kubeconfig', exitCode: 2 });
}

async function autoChoice(): Promise<ProviderName> {
  const rootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
  const docker = async (args: string[]) => probe(['docker', ...args]).catch(() => ({ exitCode: 127, stdout: '' }));
  const kindNodes = await docker(['ps', '-a', '-q', '--filter', 'label=io.x-k8s.kind.cluster']);
  if (kindNodes.exitCode === 0 && kindNodes.stdout.trim()) return 'kind';
  if (rootOnLinux && (existsSync('/var/lib/stackport/state.json') || existsSync('/etc/kubernetes/admin.conf'))) return 'kubeadm';
  // the node image module (and what it imports) loads only when nothing else decided
  const { nodeImageName } = await import('../build/kind-node-image.js');
  const image = process.env.STACKPORT_KIND_NODE_IMAGE ?? nodeImageName(KUBERNETES_VERSION);
  if ((await docker(['image', 'inspect', '--format', '{{.Id}}', image])).exitCode === 0) return 'kind';
  return rootOnLinux ? 'kubeadm' : 'kind';
}
