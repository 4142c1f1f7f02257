/**
 * `make status`'s cluster part: the stackport projects on the cluster (by the labels every
 * generated object has), each with its namespace, workloads ready and entry URL.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { probe } from '../exec/run.js';
import { kubectlBinary } from '../migrate/kube.js';
import { entryRecords } from '../cluster/host/entry.js';
import { ENTRY_URL } from '../cluster/host/entry.js';

export interface ClusterProject {
  project: string;
  namespace: string;
  ready: number;
  workloads: number;
  entry?: string;
}

type W = { metadata: { namespace: string; labels?: Record<string, string> }; spec?: { replicas?: number }; status?: { readyReplicas?: number } };

export function groupProjects(items: W[], entries: { project: string; hostPort: number }[]): ClusterProject[] {
  const by = new Map<string, ClusterProject>();
  for (const w of items) {
    const project = w.metadata.labels?.['app.kubernetes.io/instance'] ?? '?';
    const key = `${w.metadata.namespace}/${project}`;
    const p = by.get(key) ?? { project, namespace: w.metadata.namespace, ready: 0, workloads: 0 };
    p.workloads++;
    if ((w.status?.readyReplicas ?? 0) >= (w.spec?.replicas ?? 1)) p.ready++;
    by.set(key, p);
  }
  for (const p of by.values()) {
    const e = entries.find((x) => x.project === p.project);
    p.entry = e ? `http://127.0.0.1:${e.hostPort}` : p.namespace === 'default' ? ENTRY_URL : undefined;
  }
  return [...by.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.project.localeCompare(b.project));
}

/** Undefined when there is no cluster to ask (no kubeconfig, or it does not answer). */
export async function clusterProjects(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterProject[] | undefined> {
  const kubeconfig = [env.STACKPORT_KUBECONFIG, path.join(stateDir, 'kubeconfig'), '/etc/kubernetes/admin.conf'].find((f): f is string => Boolean(f && existsSync(f)));
  if (!kubeconfig) return undefined;
  const kubectl = await kubectlBinary().catch(() => undefined);
  if (!kubectl) return undefined;
  const r = await probe([kubectl, '--kubeconfig', kubeconfig, '--request-timeout=5s', 'get', 'deployments,statefulsets', '-A', '-l', 'app.kubernetes.io/managed-by=stackport', '-o', 'json'], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) return undefined;
  return groupProjects((JSON.parse(r.stdout) as { items: W[] }).items, entryRecords(stateDir));
}

export function formatClusterProjects(list: ClusterProject[] | undefined): string {
  if (!list) return 'cluster: none answering (make cluster-up)';
  if (!list.length) return 'cluster: no stackport project on it yet (make migrate)';
  return ['cluster projects:', ...list.map((p) => `  ${p.project.padEnd(24)} namespace ${p.namespace.padEnd(24)} ${p.ready}/${p.workloads} workloads ready${p.entry ? `  ${p.entry}` : ''}`)].join('\n');
}
