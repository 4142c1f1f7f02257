/**
 * Day two on the cluster, in the essay's terms: scale, rolling update, rollback, status.
 * Every input is checked before anything changes (unknown service, bad replica count, an
 * image neither the cluster nor the engine has).
 */
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import type { Kubectl } from '../cluster/kubectl.js';
import type { ClusterProvider } from '../cluster/providers/provider.js';
import type { Progress } from '../ui/progress.js';
import { formatMs } from '../ui/progress.js';
import { waitRollout, workloads, type WorkloadStatus } from '../migrate/rollout.js';
import { MANAGED } from '../migrate/migrate.js';
import { imageExists } from '../engine/images.js';
import { formatHpaRow, hpaStatus } from './hpa-status.js';
import { pushImages, type RegistryRef } from '../cluster/addons/registry.js';

export interface OpsContext {
  kubectl: Kubectl;
  provider: ClusterProvider;
  namespace: string;
  progress: Progress;
  /** a registry: images are pushed and set by digest (src/cluster/addons/registry.ts) */
  registry?: RegistryRef;
}

export async function findWorkload(c: OpsContext, service: string): Promise<WorkloadStatus> {
  const all = await workloads(c.kubectl, c.namespace, MANAGED);
  const w = all.find((x) => x.name === service);
  if (!w) {
    throw new StackportError(`unknown service "${service}": the cluster runs ${all.map((x) => x.name).join(', ') || 'no stackport services'}`, {
      hint: all.length ? `use one of: ${all.map((x) => x.name).join(', ')}` : 'run `npx zx scripts/migrate.mjs` first',
      exitCode: 2,
    });
  }
  return w;
}

const ref = (w: WorkloadStatus) => `${w.kind.toLowerCase()}/${w.name}`;

export function parseReplicas(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 50) {
    throw new StackportError(`replica count must be a whole number from 0 to 50, not "${text}"`, { exitCode: 2 });
  }
  return Number(text);
}

export async function scale(c: OpsContext, service: string, replicas: number): Promise<string> {
  const w = await findWorkload(c, service);
  if (w.kind === 'DaemonSet') throw new StackportError(`${service} runs one pod per node (DaemonSet); it cannot be scaled`, { exitCode: 2 });
  // An autoscaler owns the replica count: scaling by hand moves its floor (and ceiling if needed),
  // or the autoscaler would undo the change within seconds.
  const hpaText = (await c.kubectl.run(['get', 'hpa', service, '-n', c.namespace, '-o', 'json', '--ignore-not-found'])).stdout.trim();
  let note = '';
  if (hpaText) {
    const hpa = JSON.parse(hpaText) as { spec: { minReplicas?: number; maxReplicas: number } };
    if (replicas === 0) {
      throw new StackportError(`${service} has an autoscaler (${hpa.spec.minReplicas ?? 1}..${hpa.spec.maxReplicas} replicas): it cannot be scaled to 0 while the autoscaler exists`, { exitCode: 2 });
    }
    const max = Math.max(hpa.spec.maxReplicas, replicas);
    await c.kubectl.run(['patch', 'hpa', service, '-n', c.namespace, '--type=merge', '-p', JSON.stringify({ spec: { minReplicas: replicas, maxReplicas: max } })]);
    note = ` (autoscaler now keeps ${replicas}..${max})`;
  }
  const started = Date.now();
  await c.progress.step(`scale ${service} ${w.desired} -> ${replicas}`, async (update) => {
    await c.kubectl.run(['scale', ref(w), '-n', c.namespace, `--replicas=${replicas}`]);
    await waitRollout(c.kubectl, c.namespace, `app.kubernetes.io/name=${service}`, 180_000, update);
  });
  const pods = await podsOf(c, service);
  return `${service}: ${pods.filter((p) => p.ready).length}/${replicas} ready in ${formatMs(Date.now() - started)}${note} (${pods.map((p) => `${p.name} on ${p.node}`).join(', ') || 'no pods'})`;
}

export interface PodInfo {
  name: string;
  node: string;
  ready: boolean;
  image: string;
  restarts: number;
}

export async function podsOf(c: OpsContext, service: string): Promise<PodInfo[]> {
  type Pod = {
    metadata: { name: string; deletionTimestamp?: string };
    spec: { nodeName?: string; containers: { name: string; image: string }[] };
    status: { containerStatuses?: { ready: boolean; restartCount: number }[] };
  };
  const list = await c.kubectl.json<{ items: Pod[] }>(['get', 'pods', '-n', c.namespace, '-l', `app.kubernetes.io/name=${service}`]);
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '-',
      ready: (p.status.containerStatuses ?? []).length > 0 && (p.status.containerStatuses ?? []).every((s) => s.ready),
      image: p.spec.containers[0]?.image ?? '',
      restarts: (p.status.containerStatuses ?? []).reduce((n, s) => n + s.restartCount, 0),
    }));
}

/**
 * Makes sure the cluster can run `image`. When the engine has it, the engine's copy is the one
 * (the provider loads it unless the nodes have the same image ID, so a tag rebuilt in place is
 * delivered again); else the nodes' own copy will do; else nothing can run it.
 */
export async function ensureImage(c: OpsContext, image: string): Promise<'present' | 'delivered' | { ref: string }> {
  if (c.registry && (await imageExists(image))) return { ref: (await pushImages([image], c.registry, c.progress))[0]!.ref };
  if (await imageExists(image)) return (await c.provider.loadImages([image], { progress: c.progress })).length ? 'delivered' : 'present';
  if (await c.provider.hasImage(image)) return 'present';
  throw new StackportError(`image ${image} is neither in the cluster nor in the Docker engine, and nothing can be pulled here`, {
    hint: `build it first (e.g. WEB_VERSION=2 docker compose build web), then update again; nothing was changed`,
    exitCode: 2,
  });
}

export async function updateImage(c: OpsContext, service: string, image: string): Promise<string> {
  const w = await findWorkload(c, service);
  const how = await ensureImage(c, image);
  const target = typeof how === 'object' ? how.ref : image;
  const started = Date.now();
  await c.progress.step(`rolling update ${service} -> ${target}`, async (update) => {
    await c.kubectl.run(['set', 'image', ref(w), '-n', c.namespace, `${service}=${target}`]);
    await c.kubectl.run(['annotate', ref(w), '-n', c.namespace, '--overwrite', `kubernetes.io/change-cause=stackport update ${service} --image ${image}`]);
    await waitRollout(c.kubectl, c.namespace, `app.kubernetes.io/name=${service}`, 300_000, update);
  });
  return `${service} now runs ${image} on ${w.desired} pod(s), rolled out in ${formatMs(Date.now() - started)}${how === 'delivered' ? ' (image delivered from the engine first)' : typeof how === 'object' ? ` (pushed, by digest ${how.ref.split('@')[1]!.slice(0, 19)})` : ''}`;
}

export async function rollback(c: OpsContext, service: string): Promise<string> {
  const w = await findWorkload(c, service);
  const history = await c.kubectl.run(['rollout', 'history', ref(w), '-n', c.namespace]);
  const revisions = history.stdout.split('\n').filter((l) => /^\d+\s/.test(l.trim()));
  if (revisions.length < 2) {
    throw new StackportError(`${service} has no earlier revision to roll back to`, { hint: 'update it first', exitCode: 2 });
  }
  const started = Date.now();
  await c.progress.step(`roll back ${service}`, async (update) => {
    await c.kubectl.run(['rollout', 'undo', ref(w), '-n', c.namespace]);
    await waitRollout(c.kubectl, c.namespace, `app.kubernetes.io/name=${service}`, 300_000, update);
  });
  const pods = await podsOf(c, service);
  return `${service} rolled back to ${[...new Set(pods.map((p) => p.image))].join(', ')} in ${formatMs(Date.now() - started)}`;
}

/** The cluster in the essay's terms: control plane, node agents, and each service. */
export async function statusReport(c: OpsContext): Promise<string> {
  const lines: string[] = [];
  // a namespace-scoped identity (a cluster stackport did not make) may not list nodes: say so, go on
  const nodes = await c.kubectl.nodes().catch((e: Error) => {
    if (!/forbidden/i.test(`${e.message} ${(e as { details?: string }).details ?? ''}`)) throw e;
    lines.push('nodes: not visible to these credentials (listing nodes is forbidden)');
    return undefined;
  });
  if (nodes) lines.push('nodes (each runs a kubelet and kube-proxy):');
  for (const n of nodes ?? []) lines.push(`  ${n.name}  ${n.ready ? 'Ready' : 'NotReady'}  ${n.roles.join(',') || 'worker'}  ${n.kubeletVersion ?? ''}  ${n.containerRuntime ?? ''}`);
  lines.push('control plane:');
  const components: [string, string][] = [
    ['API server', 'component=kube-apiserver'],
    ['scheduler', 'component=kube-scheduler'],
    ['controller manager', 'component=kube-controller-manager'],
    ['etcd', 'component=etcd'],
    ['kube-proxy', 'k8s-app=kube-proxy'],
    ['CoreDNS', 'k8s-app=kube-dns'],
  ];
  type Pod = { metadata: { name: string }; status: { phase: string; containerStatuses?: { ready: boolean; restartCount: number }[] } };
  for (const [title, selector] of components) {
    const pods = await c.kubectl.json<{ items: Pod[] }>(['get', 'pods', '-n', 'kube-system', '-l', selector]).catch(() => ({ items: [] as Pod[] }));
    const ready = pods.items.filter((p) => (p.status.containerStatuses ?? []).every((s) => s.ready) && p.status.phase === 'Running').length;
    const restarts = pods.items.reduce((n, p) => n + (p.status.containerStatuses ?? []).reduce((m, s) => m + s.restartCount, 0), 0);
    lines.push(`  ${title.padEnd(19)} ${pods.items.length ? `${ready}/${pods.items.length} healthy` : 'not found'}${restarts ? `, ${restarts} restart(s)` : ''}`);
  }
  const readyz = await c.kubectl.run(['get', '--raw', '/readyz']).then((r) => r.stdout.trim(), () => 'not ready');
  lines.push(`  API /readyz: ${readyz}`);
  lines.push('services:');
  const ws = await workloads(c.kubectl, c.namespace, MANAGED);
  if (!ws.length) lines.push('  none (run npx zx scripts/migrate.mjs)');
  for (const w of ws) {
    const pods = await podsOf(c, w.name);
    const images = [...new Set(pods.map((p) => p.image))].join(', ');
    lines.push(`  ${w.name.padEnd(8)} ${w.kind.padEnd(12)} ${w.ready}/${w.desired} ready  ${images}`);
  }
  const hpas = await hpaStatus(c.kubectl, c.namespace).catch(() => []);
  if (hpas.length) {
    lines.push('autoscalers (HorizontalPodAutoscaler, metrics from metrics-server):');
    for (const h of hpas) lines.push(`  ${formatHpaRow(h)}`);
  }
  lines.push(`entry: ${c.provider.entry()}`);
  return lines.join('\n');
}
