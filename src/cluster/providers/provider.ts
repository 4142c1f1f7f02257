import type { Progress } from '../../ui/progress.js';

/**
 * A local Kubernetes cluster, whatever makes it (kubeadm on this host, kind in containers).
 * Shaped after kind's pkg/cluster/internal/providers/provider.go: the caller never learns how
 * nodes exist, only what it can ask of a cluster.
 */
export type ProviderName = 'kubeadm' | 'kind' | 'kubeconfig';

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
