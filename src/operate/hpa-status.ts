/**
 * HorizontalPodAutoscalers of a namespace as rows (for `k8s.mjs status` and the autoscale
 * proof): which workload, min..max, the CPU target and the utilisation the HPA last read.
 */
import type { RunOptions } from '../exec/run.js';
import type { CommandResult } from '../errors.js';

export interface HpaRow {
  name: string;
  /** "Deployment/web" */
  target: string;
  min: number;
  max: number;
  /** target average CPU utilisation, % of request */
  targetCpu?: number;
  /** last reading, % of request (undefined: no metrics yet) */
  currentCpu?: number;
  current: number;
  desired: number;
  /** ScalingActive / AbleToScale problems, or "" */
  problem: string;
}

interface HpaJson {
  metadata: { name: string };
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: { type: string; resource?: { name: string; target?: { averageUtilization?: number } } }[];
  };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: { type: string; resource?: { name: string; current?: { averageUtilization?: number } } }[] | null;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export function hpaRows(items: HpaJson[]): HpaRow[] {
  return items
    .map((h) => {
      const cpuTarget = h.spec.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target?.averageUtilization;
      const cpuNow = h.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current?.averageUtilization;
      const bad = (h.status?.conditions ?? []).filter((c) => (c.type === 'ScalingActive' || c.type === 'AbleToScale') && c.status === 'False');
      return {
        name: h.metadata.name,
        target: `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`,
        min: h.spec.minReplicas ?? 1,
        max: h.spec.maxReplicas,
        targetCpu: cpuTarget,
        currentCpu: cpuNow,
        current: h.status?.currentReplicas ?? 0,
        desired: h.status?.desiredReplicas ?? 0,
        problem: bad.map((c) => `${c.reason ?? c.type}: ${c.message ?? ''}`.trim()).join('; '),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `kubectl get hpa -o json` of one namespace, as rows. Any kubectl with run() fits (src/cluster/kubectl.ts). */
export async function hpaStatus(kubectl: { run(args: string[], options?: RunOptions): Promise<CommandResult> }, namespace = 'default'): Promise<HpaRow[]> {
  const r = await kubectl.run(['-n', namespace, 'get', 'horizontalpodautoscalers.autoscaling', '-o', 'json'], { timeoutMs: 20_000 });
  return hpaRows((JSON.parse(r.stdout) as { items: HpaJson[] }).items);
}

/** "web: 2/1..4 pods, CPU 73%/50%" */
export function formatHpaRow(r: HpaRow): string {
  const cpu = r.targetCpu === undefined ? '' : `, CPU ${r.currentCpu === undefined ? '?' : `${r.currentCpu}%`}/${r.targetCpu}%`;
  return `${r.target}: ${r.current} pod(s) (desired ${r.desired}, ${r.min}..${r.max})${cpu}${r.problem ? ` [${r.problem}]` : ''}`;
}
