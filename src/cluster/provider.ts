import type { Progress } from '../ui/progress.js';

/**
 * A local Kubernetes cluster, whatever makes it (kubeadm on this host, kind in containers).
 * Shaped after kind's pkg/cluster/internal/providers/provider.go: the caller never learns how
 * nodes exist, only what it can ask of a cluster.
 */
export type ProviderName = 'kubeadm' | 'kind';

export interface NodeInfo {
  name: string;
  ready: boolean;
  roles: string[];
  internalIp?: string;
  kubeletVersion?: string;
  containerRuntime?: string;
}

export interface ClusterStatus {
  provider: ProviderName;
  /** running: API answers and every node is Ready; degraded: processes exist but it is not healthy; absent: nothing there. */
  state: 'running' | 'degraded' | 'absent';
  kubernetesVersion?: string;
  nodes: NodeInfo[];
  /** processes the provider started, by role (for `status` and tests) */
  processes: Record<string, number | undefined>;
  kubeconfig?: string;
  /** where apps are reached on the host (the generator's web NodePort) */
  entry?: string;
  problems: string[];
}

export interface CreateOptions {
  progress?: Progress;
}

export interface ClusterProvider {
  readonly name: ProviderName;
  /** Builds what is missing (cached), then starts the cluster; a no-op when it already runs. */
  create(options?: CreateOptions): Promise<void>;
  /** Stops everything create started and removes the cluster's state from the host. */
  delete(options?: CreateOptions): Promise<void>;
  status(): Promise<ClusterStatus>;
  /** Path of a kubeconfig for the cluster's admin (exists once create has finished). */
  kubeconfig(): Promise<string>;
  /**
   * Makes images of the Docker engine (by name) available to the cluster's nodes. An image the
   * nodes already have with the same engine image ID is skipped; returns the ones loaded.
   */
  loadImages(images: string[], options?: CreateOptions): Promise<string[]>;
  /** Whether the cluster's nodes already have an image (by the name Docker gives it). */
  hasImage(image: string): Promise<boolean>;
  /** Imports image archives (docker-save or OCI tarballs) into the nodes. */
  loadArchives(archives: string[]): Promise<void>;
  nodes(): Promise<NodeInfo[]>;
  /** URL of the app entry on the host: 127.0.0.1:8090 → the web NodePort 30080. */
  entry(): string;
}

export interface ProviderContext {
  /** repository root: kubeconfig and logs go to <root>/.stackport/ */
  root: string;
}

export const ENTRY_HOST_PORT = 8090;
export const WEB_NODE_PORT = 30080;

export interface DetectOptions {
  /** kind only: 1 node (kind/cluster.yaml) or 3 (kind/multi-node.yaml) */
  nodes?: number;
  /** kind only: a kind config file */
  config?: string;
}

/**
 * Picks a provider like kind picks docker or podman: an explicit choice (`--provider`, then
 * STACKPORT_PROVIDER) wins. Otherwise the cluster that already exists (kind's node containers, or
 * kubeadm's state on this host); otherwise kind where the Docker engine answers and a kind node
 * image is there (ours, built locally, or STACKPORT_KIND_NODE_IMAGE); otherwise kubeadm when we
 * are root on Linux (it runs on the host itself), else kind.
 */
export async function detect(ctx: ProviderContext, wanted?: string, options: DetectOptions = {}): Promise<ClusterProvider> {
  const { StackportError } = await import('../errors.js');
  const choice = wanted ?? process.env.STACKPORT_PROVIDER ?? (await autoChoice());
  if (choice === 'kubeadm') {
    const { KubeadmProvider } = await import('./kubeadm.js');
    return new KubeadmProvider(ctx);
  }
  if (choice === 'kind') {
    const { KindProvider } = await import('./kind.js');
    return new KindProvider(ctx, options);
  }
  throw new StackportError(`unknown provider ${choice}`, { hint: 'use --provider kubeadm or --provider kind', exitCode: 2 });
}

async function autoChoice(): Promise<ProviderName> {
  const { existsSync } = await import('node:fs');
  const { probe } = await import('../exec/run.js');
  const rootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
  const docker = async (args: string[]) => probe(['docker', ...args]).catch(() => ({ exitCode: 127, stdout: '' }));
  const kindNodes = await docker(['ps', '-a', '-q', '--filter', 'label=io.x-k8s.kind.cluster']);
  if (kindNodes.exitCode === 0 && kindNodes.stdout.trim()) return 'kind';
  if (rootOnLinux && (existsSync('/var/lib/stackport/state.json') || existsSync('/etc/kubernetes/admin.conf'))) return 'kubeadm';
  const { nodeImageName } = await import('./kind-node-image.js');
  const { KUBERNETES_VERSION } = await import('./versions.js');
  const image = process.env.STACKPORT_KIND_NODE_IMAGE ?? nodeImageName(KUBERNETES_VERSION);
  if ((await docker(['image', 'inspect', '--format', '{{.Id}}', image])).exitCode === 0) return 'kind';
  return rootOnLinux ? 'kubeadm' : 'kind';
}
