/** kubectl for a provider's cluster, plus the small queries the migration needs. */
import { existsSync } from 'node:fs';
import { StackportError } from '../errors.js';
import { which } from '../exec/run.js';
import { Kubectl } from '../cluster/kubectl.js';
import type { ClusterProvider } from '../cluster/provider.js';
import { CacheLayout } from '../cluster/cache.js';
import { KUBERNETES_VERSION } from '../cluster/versions.js';
import { workloadsIn, type RenderedWorkload } from './rendered.js';

/** The cluster release's own kubectl (built with it), else STACKPORT_KUBECTL, else PATH. */
export async function kubectlBinary(): Promise<string> {
  if (process.env.STACKPORT_KUBECTL) return process.env.STACKPORT_KUBECTL;
  const built = new CacheLayout(KUBERNETES_VERSION).binary('kubectl');
  if (existsSync(built)) return built;
  const onPath = await which('kubectl');
  if (onPath) return onPath;
  throw new StackportError('no kubectl found', { hint: 'run `make cluster-up` (it builds kubectl with the cluster), or put kubectl on PATH' });
}

export async function kubectlFor(provider: ClusterProvider): Promise<Kubectl> {
  return new Kubectl(await kubectlBinary(), await provider.kubeconfig());
}

/** Every container image of these workloads (containers and init containers), sorted, once each. */
export function imagesOf(workloads: RenderedWorkload[]): string[] {
  return [...new Set(workloads.flatMap((w) => [...w.containers, ...w.initContainers].map((c) => c.image)))].sort();
}

/** Every container image in a rendered manifest stream. */
export function imagesIn(yamlText: string): string[] {
  return imagesOf(workloadsIn(yamlText));
}
