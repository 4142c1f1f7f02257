/**
 * How a rebuilt image reaches the cluster's nodes. Today: the provider's loadImages (kubeadm:
 * docker save | ctr import, skipped when the node has the same engine image ID). When the cluster
 * has a registry, point this one function at it (push, then roll by digest).
 */
import type { ClusterProvider } from '../cluster/providers/provider.js';

export async function deliverImage(provider: ClusterProvider, image: string): Promise<string> {
  const loaded = await provider.loadImages([image]);
  return loaded.length ? `delivered ${image}` : `${image} already on the nodes`;
}
