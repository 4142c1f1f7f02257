import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST } from '../build/cache.js';

/**
 * What a kubeadm cluster left on this host, judged from the disk only (processes are not state:
 * after a reboot none run). `intact`: `kubeadm init` finished for this release and node address
 * and everything the kubelet needs to bring the control plane back is there (certificates and
 * kubeconfigs, static pod manifests, etcd's data, the kubelet's config) — `up` restarts it and
 * keeps every object and volume. `broken`: a cluster was begun or damaged (init did not finish,
 * files are missing, the node address or release changed, which the certificates and manifests
 * name) — only then does `up` reset, and it says what is lost. `none`: nothing of a cluster.
 */
export const CONTROL_PLANE_FILES = [
  '/etc/kubernetes/admin.conf',
  '/etc/kubernetes/kubelet.conf',
  '/etc/kubernetes/pki/ca.crt',
  '/etc/kubernetes/pki/apiserver.crt',
  '/etc/kubernetes/manifests/etcd.yaml',
  '/etc/kubernetes/manifests/kube-apiserver.yaml',
  '/etc/kubernetes/manifests/kube-controller-manager.yaml',
  '/etc/kubernetes/manifests/kube-scheduler.yaml',
  '/var/lib/kubelet/config.yaml',
  '/var/lib/kubelet/kubeadm-flags.env',
  '/var/lib/etcd/member/snap',
] as const;

/** Any of these means a cluster was at least begun here. */
export const CLUSTER_MARKS = ['/etc/kubernetes/manifests', '/etc/kubernetes/admin.conf', '/var/lib/etcd/member', '/var/lib/kubelet/config.yaml', HOST.state] as const;

export interface ClusterRecord {
  kubernetesVersion: string;
  nodeIp: string;
  nodeName: string;
  createdAt: string;
}

export interface Observed {
  /** paths of CONTROL_PLANE_FILES and CLUSTER_MARKS that exist */
  present: Set<string>;
  record?: ClusterRecord;
  /** the address and release `up` is asked for */
  nodeIp: string;
  kubernetesVersion: string;
}

export type HostState = { kind: 'none' } | { kind: 'intact'; record: ClusterRecord } | { kind: 'broken'; reasons: string[] };

/** Pure: the verdict from what was seen. */
export function classify(o: Observed): HostState {
  const begun = CLUSTER_MARKS.some((p) => o.present.has(p));
  if (!begun) return { kind: 'none' };
  const reasons: string[] = [];
  if (!o.record) reasons.push(`kubeadm init did not finish (no ${HOST.state})`);
  else {
    if (o.record.nodeIp !== o.nodeIp) reasons.push(`the node address changed from ${o.record.nodeIp} to ${o.nodeIp} (the certificates and manifests name the old one)`);
    if (o.record.kubernetesVersion !== o.kubernetesVersion) reasons.push(`the cluster runs ${o.record.kubernetesVersion}, this stackport builds ${o.kubernetesVersion}`);
  }
  const missing = CONTROL_PLANE_FILES.filter((p) => !o.present.has(p));
  if (missing.length) reasons.push(`missing: ${missing.join(', ')}`);
  if (reasons.length) return { kind: 'broken', reasons };
  return { kind: 'intact', record: o.record! };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

export async function readRecord(): Promise<ClusterRecord | undefined> {
  try {
    return JSON.parse(await readFile(HOST.state, 'utf8')) as ClusterRecord;
  } catch {
    return undefined;
  }
}

export async function observe(nodeIp: string, kubernetesVersion: string): Promise<Observed> {
  const present = new Set<string>();
  for (const p of new Set<string>([...CONTROL_PLANE_FILES, ...CLUSTER_MARKS])) if (await exists(p)) present.add(p);
  return { present, record: await readRecord(), nodeIp, kubernetesVersion };
}

export async function hostState(nodeIp: string, kubernetesVersion: string): Promise<HostState> {
  return classify(await observe(nodeIp, kubernetesVersion));
}

/** The volume directories local-path made (kept by a reset). */
export async function volumeDirs(): Promise<string[]> {
  return (await readdir(HOST.localVolumes).catch(() => [] as string[])).map((d) => join(HOST.localVolumes, d));
}

/** What a reset of a broken cluster loses and keeps, for the user to read before it happens. */
export function resetNotice(reasons: string[], volumes: string[]): string {
  return [
    `the cluster state on this host is broken: ${reasons.join('; ')}`,
    'resetting it (kubeadm reset). Lost: every Kubernetes object in etcd (namespaces, workloads, claims, secrets, a migration record).',
    `Kept: the image store and ${volumes.length} volume director${volumes.length === 1 ? 'y' : 'ies'} under ${HOST.localVolumes}${volumes.length ? ` (${volumes.map((v) => v.slice(HOST.localVolumes.length + 1)).join(', ')})` : ''}.`,
  ].join('\n');
}
