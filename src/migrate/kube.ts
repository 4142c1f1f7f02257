/** kubectl for a provider's cluster, plus the small queries the migration needs. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StackportError } from '../errors.js';
import { which } from '../exec/run.js';
import { Kubectl } from '../cluster/kubectl.js';
import type { ClusterProvider } from '../cluster/providers/provider.js';
import { CacheLayout } from '../cluster/build/cache.js';
import { KUBERNETES_VERSION } from '../cluster/build/versions.js';
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

/**
 * kubectl on the cluster's admin kubeconfig without writing one, for commands that change nothing
 * (migrate --dry-run, k8s status): provider.kubeconfig() copies it into .stackport/ when missing;
 * this takes the copy that is there, else kubeadm's own /etc/kubernetes/admin.conf.
 */
export async function readOnlyKubectl(provider: ClusterProvider, root: string): Promise<Kubectl> {
  const candidates =
    provider.name === 'kubeadm' ? [join(root, '.stackport', 'kubeconfig'), '/etc/kubernetes/admin.conf'] : [join(root, '.stackport', 'kind-kubeconfig')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new StackportError(`no kubeconfig for the ${provider.name} cluster (${candidates.join(', ')}), and this command writes none`, { hint: 'run `make cluster-up`' });
  return new Kubectl(await kubectlBinary(), file);
}

/** Every container image of these workloads (containers and init containers), sorted, once each. */
export function imagesOf(workloads: RenderedWorkload[]): string[] {
  return [...new Set(workloads.flatMap((w) => [...w.containers, ...w.initContainers].map((c) => c.image)))].sort();
}

/** Every container image in a rendered manifest stream. */
export function imagesIn(yamlText: string): string[] {
  return imagesOf(workloadsIn(yamlText));
}
