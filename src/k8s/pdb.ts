/** replicas > 1 -> a PodDisruptionBudget (drains keep one replica serving) and a spread across nodes. */
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { ITopologySpreadConstraint } from 'kubernetes-models/v1/TopologySpreadConstraint';

export function disruptionBudget(name: string, replicas: number, labels: Record<string, string>, selector: Record<string, string>): IPodDisruptionBudget | undefined {
  if (replicas <= 1) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
}

/** Spread replicas over nodes when it can; schedule anyway on a one-node cluster. */
export function spreadAcrossNodes(replicas: number, selector: Record<string, string>): ITopologySpreadConstraint[] | undefined {
  if (replicas <= 1) return undefined;
  return [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } }];
}
