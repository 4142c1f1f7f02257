/**
 * Waits until every workload stackport manages has rolled out (observed, updated, ready),
 * showing per-resource status; on timeout, says which and why (pod waiting reasons, events).
 */
import type { Kubectl } from '../cluster/kubectl.js';
import { waitFor } from '../exec/wait.js';

export interface WorkloadStatus {
  kind: string;
  name: string;
  desired: number;
  ready: number;
  updated: number;
  done: boolean;
}

interface Workload {
  kind: string;
  metadata: { name: string; generation?: number };
  spec: { replicas?: number };
  status: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export function workloadStatus(w: Workload): WorkloadStatus {
  const s = w.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
  if (w.kind === 'DaemonSet') {
    const desired = s.desiredNumberScheduled ?? 0;
    const ready = s.numberReady ?? 0;
    const updated = s.updatedNumberScheduled ?? 0;
    return { kind: w.kind, name: w.metadata.name, desired, ready, updated, done: observed && ready === desired && updated === desired };
  }
  const desired = w.spec.replicas ?? 1;
  const ready = s.readyReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  let done = observed && updated === desired && ready === desired && total === desired;
  if (w.kind === 'StatefulSet' && s.updateRevision && s.currentRevision !== s.updateRevision) done = false;
  return { kind: w.kind, name: w.metadata.name, desired, ready, updated, done };
}

export async function workloads(kubectl: Kubectl, namespace: string, selector: string): Promise<WorkloadStatus[]> {
  const list = await kubectl.json<{ items: Workload[] }>(['get', 'deployments,statefulsets,daemonsets', '-n', namespace, '-l', selector]);
  return list.items.map(workloadStatus).sort((a, b) => a.name.localeCompare(b.name));
}

export const formatStatus = (ws: WorkloadStatus[]) => ws.map((w) => `${w.name} ${w.ready}/${w.desired}`).join(', ');

export async function waitRollout(
  kubectl: Kubectl,
  namespace: string,
  selector: string,
  timeoutMs: number,
  update: (detail: string) => void = () => undefined,
): Promise<WorkloadStatus[]> {
  return waitFor(
    'the rollout',
    async (ctl) => {
      const ws = await workloads(kubectl, namespace, selector);
      update(formatStatus(ws));
      if (ws.length && ws.every((w) => w.done)) return ws;
      ctl.seen(ws.length ? `not ready: ${formatStatus(ws.filter((w) => !w.done))}` : `no workload labelled ${selector}`);
      return undefined;
    },
    {
      timeoutMs,
      intervalMs: 500,
      message: `rollout not finished after ${Math.round(timeoutMs / 1000)} s`,
      hint: `kubectl --kubeconfig ${kubectl.kubeconfig} -n ${namespace} describe pods`,
      timeoutDetails: () => podProblems(kubectl, namespace, selector),
    },
  );
}

/** One line per pod that is not ready: phase and the reason of each container that waits or crashed. */
export async function podProblems(kubectl: Kubectl, namespace: string, selector: string): Promise<string> {
  type Pod = {
    metadata: { name: string };
    status: {
      phase: string;
      conditions?: { type: string; status: string; message?: string }[];
      containerStatuses?: { name: string; ready: boolean; restartCount: number; state: Record<string, { reason?: string; message?: string; exitCode?: number }> }[];
      initContainerStatuses?: { name: string; ready: boolean; state: Record<string, { reason?: string; message?: string }> }[];
    };
  };
  const pods = await kubectl.json<{ items: Pod[] }>(['get', 'pods', '-n', namespace, '-l', selector]).catch(() => ({ items: [] as Pod[] }));
  const lines: string[] = [];
  for (const p of pods.items) {
    const statuses = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])];
    const bad = statuses.filter((c) => !c.ready);
    if (p.status.phase === 'Running' && bad.length === 0) continue;
    const why = bad.map((c) => {
      const [state, info] = Object.entries(c.state)[0] ?? ['?', {}];
      return `${c.name} ${state}${info.reason ? ` (${info.reason}${info.message ? `: ${info.message.slice(0, 120)}` : ''})` : ''}`;
    });
    const unscheduled = p.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    lines.push(`${p.metadata.name}: ${p.status.phase}${unscheduled ? ` — ${unscheduled.message}` : ''}${why.length ? ` — ${why.join('; ')}` : ''}`);
  }
  return lines.join('\n');
}
