/**
 * `x-stackport: { autoscale: { min, max, cpu } }` -> a HorizontalPodAutoscaler (autoscaling/v2)
 * on average CPU utilisation. Utilisation is measured against the pods' CPU request, so an
 * autoscaled service always has one: `deploy.resources.reservations.cpus`, else its CPU limit
 * (Kubernetes makes the request equal to the limit), else DEFAULT_CPU_REQUEST (with a warning).
 * The workload carries no `replicas`: the autoscaler owns the count, and re-applying the
 * manifests must not reset it. Pods the autoscaler removes first sleep PRESTOP_SECONDS (a
 * preStop sleep action, no binary needed in the image) so kube-proxy stops sending them new
 * connections before the container is signalled: scaling in drops no request.
 */
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { Autoscale, Service, Warning } from '../model/app.js';
import type { Workload, WorkloadKind } from './workloads.js';

/** CPU request given to an autoscaled service that states none (0.1 CPU = 100m). */
export const DEFAULT_CPU_REQUEST_CPUS = '0.1';
export const DEFAULT_CPU_REQUEST = '100m';

/**
 * The service as the pod spec should see it: with a CPU request, and with `max` replicas for the
 * decisions that depend on having several pods (PodDisruptionBudget, spread over nodes).
 */
export function autoscaledService(svc: Service, warnings: Warning[]): Service {
  const a = svc.autoscale;
  if (!a) return svc;
  const out: Service = { ...svc, replicas: Math.max(a.max, svc.replicas) };
  if (!svc.reservations.cpus && !svc.limits.cpus) {
    out.reservations = { ...svc.reservations, cpus: DEFAULT_CPU_REQUEST_CPUS };
    warnings.push({
      message: `services.${svc.name}.x-stackport.autoscale: no deploy.resources.reservations.cpus; CPU request ${DEFAULT_CPU_REQUEST} assumed (the cpu target is a percentage of it)`,
      pos: a.pos,
    });
  }
  return out;
}

export function canAutoscale(kind: WorkloadKind): kind is 'Deployment' | 'StatefulSet' {
  return kind === 'Deployment' || kind === 'StatefulSet';
}

export const PRESTOP_SECONDS = 5;

/** Leaves the replica count to the autoscaler, and lets removed pods drain before they stop. */
export function releaseReplicas(w: Workload): void {
  const spec = w.spec as { replicas?: number; template?: { spec?: { containers?: IContainer[]; terminationGracePeriodSeconds?: number } } } | undefined;
  if (!spec) return;
  delete spec.replicas;
  const pod = spec.template?.spec;
  const main = pod?.containers?.[0];
  if (main && !main.lifecycle?.preStop) main.lifecycle = { ...main.lifecycle, preStop: { sleep: { seconds: PRESTOP_SECONDS } } };
  if (pod && pod.terminationGracePeriodSeconds !== undefined && pod.terminationGracePeriodSeconds <= PRESTOP_SECONDS) {
    pod.terminationGracePeriodSeconds = PRESTOP_SECONDS + pod.terminationGracePeriodSeconds;
  }
}

export function horizontalPodAutoscaler(name: string, kind: 'Deployment' | 'StatefulSet', labels: Record<string, string>, a: Autoscale): IHorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind, name },
      minReplicas: a.min,
      maxReplicas: a.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.cpu } } }],
    },
  };
}
