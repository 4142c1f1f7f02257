/**
 * How a rebuilt image reaches the cluster, by the fastest path the target has, and what the
 * workload's container must name afterwards:
 * - through a registry (`--registry`, STACKPORT_REGISTRY, the kubeconfig provider's, or the one
 *   the workload already names its image from by digest, as `migrate --registry` and
 *   `k8s.mjs update --registry` leave it): pushImages (only the layers the registry lacks), and
 *   the container names the new `repository@sha256:…`;
 * - else into the nodes: the provider's loadImages (kubeadm: docker save | ctr import, skipped when
 *   the node has the same engine image ID), and the container names the tag.
 * A workload pinned by a digest that is not this image's push to a known registry is refused
 * before anything changes: loading the image into the nodes would roll nothing (a stale deploy).
 */
import { StackportError } from '../errors.js';
import type { Cmder } from '../exec/actions.js';
import type { ClusterProvider } from '../cluster/providers/provider.js';
import { formatRegistry, isDigestRef, pinnedRegistry, pushImages, type RegistryRef } from '../cluster/addons/registry.js';
import type { Progress } from '../ui/progress.js';

export interface DeliveryOptions {
  provider: ClusterProvider;
  /** The registry named for this session (flag, environment or provider), if any. */
  registry?: RegistryRef;
  cmd: Cmder;
  progress: Progress;
}

export interface Delivered {
  how: 'registry' | 'nodes';
  /** What the workload's container names after the roll (a digest reference, or the tag). */
  image: string;
  /** For the update line. */
  did: string;
}

/** The registry a rebuild of `image` goes through: the session's, else the one the workload's `current` image was pushed to. */
export function deliveryRegistry(image: string, current: string, configured?: RegistryRef): RegistryRef | undefined {
  if (configured) return configured;
  if (!isDigestRef(current)) return undefined;
  const pinned = pinnedRegistry(current, image);
  if (pinned) return pinned;
  throw new StackportError(`the workload names its image by digest (${current}), not as a push of ${image} to a registry stackport can tell`, {
    hint: 'name the registry it pulls from with --registry host[:port][/prefix]; nothing was changed',
    exitCode: 2,
  });
}

export async function deliverImage(o: DeliveryOptions, image: string, current: string): Promise<Delivered> {
  const registry = deliveryRegistry(image, current, o.registry);
  if (registry) {
    const [pushed] = await pushImages([image], registry, o.progress, o.cmd);
    const digest = pushed!.ref.slice(pushed!.ref.indexOf('@') + 1);
    return { how: 'registry', image: pushed!.ref, did: `pushed to ${formatRegistry(registry)} (${digest.slice(0, 19)})` };
  }
  const loaded = await o.provider.loadImages([image], { progress: o.progress });
  return { how: 'nodes', image, did: loaded.length ? `delivered ${image}` : `${image} already on the nodes` };
}
