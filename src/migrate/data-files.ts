/**
 * Any other named volume: copied as files. The Compose services using it are paused for the
 * copy (a consistent tree) and resumed after, whatever happens; the cluster workload is at 0
 * replicas while a helper pod holding its claim receives a tar stream; a checksum of the tree
 * (every file's path and sha256) is compared on both sides after. The copy is recorded in the
 * ConfigMap stackport-migration (volume.<name>.sha256), so a re-run skips an unchanged volume and
 * refuses to overwrite a cluster side that changed since (unless forced).
 */
import { StackportError } from '../errors.js';
import { pipe } from '../exec/pipe.js';
import { probe, run } from '../exec/run.js';
import { waitFor } from '../exec/wait.js';
import type { Kubectl } from '../cluster/kubectl.js';
import { DEBIAN_BASE, imageExists } from '../engine/images.js';
import { parseAllDocuments } from 'yaml';

/** A mount of a Compose container, as the engine reports it. */
export interface ComposeMount {
  service: string;
  container: string;
  type: 'volume' | 'bind';
  /** Engine volume name (project_volume) or host path. */
  source: string;
  /** The Compose file's volume key (label com.docker.compose.volume), for volumes. */
  volume?: string;
  target: string;
  image: string;
}

export async function composeMounts(project: string): Promise<ComposeMount[]> {
  const ids = (await run(['docker', 'ps', '-q', '--filter', `label=com.docker.compose.project=${project}`])).stdout.split('\n').filter(Boolean);
  if (!ids.length) return [];
  type C = { Id: string; Config: { Image: string; Labels: Record<string, string> }; Mounts: { Type: string; Name?: string; Source: string; Destination: string }[] };
  const list = JSON.parse((await run(['docker', 'inspect', ...ids])).stdout) as C[];
  const out: ComposeMount[] = [];
  const labels = await volumeLabels(list.flatMap((c) => c.Mounts.filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!)));
  for (const c of list) {
    for (const m of c.Mounts) {
      if (m.Type !== 'volume' && m.Type !== 'bind') continue;
      if (m.Type === 'volume' && !labels.get(m.Name!)) continue; // anonymous volume: nothing to keep
      out.push({
        service: c.Config.Labels['com.docker.compose.service'] ?? '?',
        container: c.Id.slice(0, 12),
        type: m.Type,
        source: m.Type === 'volume' ? m.Name! : m.Source,
        volume: m.Type === 'volume' ? labels.get(m.Name!) : undefined,
        target: m.Destination,
        image: c.Config.Image,
      });
    }
  }
  return out.sort((a, b) => a.service.localeCompare(b.service) || a.target.localeCompare(b.target));
}

async function volumeLabels(names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!names.length) return out;
  const r = await probe(['docker', 'volume', 'inspect', '--format', '{{.Name}} {{index .Labels "com.docker.compose.volume"}}', ...new Set(names)]);
  for (const line of r.stdout.split('\n')) {
    const [name, key] = line.trim().split(' ');
    if (name && key && key !== '<no') out.set(name, key);
  }
  return out;
}

/** sha256 over every file's path and content, the number of files, their bytes: "<sha> <files> <bytes>". */
export const TREE_SUM = `cd "$0" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum | sha256sum | cut -d' ' -f1 | tr '\\n' ' ' && find . -type f | wc -l | tr '\\n' ' ' && find . -type f -exec stat -c %s {} + | awk '{s+=$1} END {print s+0}'`;

export interface TreeSum {
  sha256: string;
  files: number;
  bytes: number;
}

export function parseTreeSum(text: string): TreeSum {
  const m = /([0-9a-f]{64})\s+(\d+)\s+(\d+)/.exec(text);
  if (!m) throw new StackportError(`unexpected checksum output: ${JSON.stringify(text.slice(0, 120))}`);
  return { sha256: m[1]!, files: Number(m[2]), bytes: Number(m[3]) };
}

/** Where the volume goes: the StatefulSet mounting it at the same path, and its first claim. */
export interface ClaimTarget {
  kind: 'StatefulSet';
  workload: string;
  claim: string;
  mountPath: string;
  image: string;
  replicas: number;
}

/** The claim of the workload that mounts `mountPath` (a volumeClaimTemplate `<tpl>-<sts>-0`, or a persistentVolumeClaim). */
export function claimFor(rendered: string, workload: string, mountPath: string): ClaimTarget | undefined {
  for (const doc of parseAllDocuments(rendered)) {
    type Spec = {
      kind?: string;
      metadata?: { name?: string };
      spec?: {
        replicas?: number;
        volumeClaimTemplates?: { metadata: { name: string } }[];
        template?: { spec?: { containers?: { image: string; volumeMounts?: { name: string; mountPath: string }[] }[]; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] } };
      };
    };
    const o = doc.toJS() as Spec | null;
    if (o?.kind !== 'StatefulSet' || o.metadata?.name !== workload) continue;
    for (const c of o.spec?.template?.spec?.containers ?? []) {
      const vm = c.volumeMounts?.find((m) => m.mountPath === mountPath);
      if (!vm) continue;
      const tpl = o.spec?.volumeClaimTemplates?.find((t) => t.metadata.name === vm.name);
      const pvc = o.spec?.template?.spec?.volumes?.find((v) => v.name === vm.name)?.persistentVolumeClaim?.claimName;
      const claim = tpl ? `${tpl.metadata.name}-${workload}-0` : pvc;
      if (claim) return { kind: 'StatefulSet', workload, claim, mountPath, image: c.image, replicas: o.spec?.replicas ?? 1 };
    }
  }
  return undefined;
}

export interface VolumeCopyResult {
  volume: string;
  service: string;
  action: 'copied' | 'unchanged';
  files: number;
  bytes: number;
  sha256: string;
  ms: number;
}

interface Recorded {
  sha256?: string;
  at?: string;
}

/** Each wait of a copy (pods gone, helper pod Ready, the workload back): as long as migrate's rollout wait, for a loaded host. */
const STEP_TIMEOUT_MS = 300_000;

const key = (volume: string) => `volume.${volume.replace(/[^A-Za-z0-9._-]/g, '_')}`;

async function recorded(k: Kubectl, ns: string, volume: string): Promise<Recorded> {
  const r = await k.run(['get', 'configmap', 'stackport-migration', '-n', ns, '-o', 'json', '--ignore-not-found']);
  if (!r.stdout.trim()) return {};
  const data = (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
  return { sha256: data[`${key(volume)}.sha256`], at: data[`${key(volume)}.copiedAt`] };
}

async function record(k: Kubectl, ns: string, volume: string, sum: TreeSum): Promise<void> {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'stackport-migration', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'stackport-migrate' } },
    data: { [`${key(volume)}.sha256`]: sum.sha256, [`${key(volume)}.copiedAt`]: new Date().toISOString(), [`${key(volume)}.files`]: String(sum.files) },
  };
  await k.run(['apply', '--server-side', '--field-manager=stackport-volume-' + key(volume).slice(7, 40), '--force-conflicts', '-f', '-'], { input: JSON.stringify(cm) });
}

/** The image a throwaway container reads the volume with: the Debian base when present, else the service's. */
async function readerImage(m: ComposeMount): Promise<string> {
  return (await imageExists(DEBIAN_BASE)) ? DEBIAN_BASE : m.image;
}

async function composeSum(m: ComposeMount): Promise<TreeSum> {
  const r = await run(['docker', 'run', '--rm', '--entrypoint', 'sh', '-v', `${m.source}:/src:ro`, await readerImage(m), '-c', TREE_SUM, '/src'], { what: `checksum of volume ${m.volume}` });
  return parseTreeSum(r.stdout);
}

async function podSum(k: Kubectl, ns: string, pod: string, dir: string): Promise<TreeSum> {
  const r = await k.run(['exec', '-n', ns, pod, '--', 'sh', '-c', TREE_SUM, dir], { what: `checksum of ${dir} in ${pod}` });
  return parseTreeSum(r.stdout);
}

export interface FilesTarget {
  kubectl: Kubectl;
  namespace: string;
  claim: ClaimTarget;
}

/** Containers mounting the volume, paused during `fn`, resumed after whatever happens. */
export async function whilePaused<T>(containers: string[], volume: string, fn: () => Promise<T>): Promise<T> {
  const paused: string[] = [];
  try {
    for (const c of containers) {
      // The freezer can lose a race with a process joining the cgroup (a health check's exec,
      // seen here: "unable to freeze"); it is asked again until the container is paused, for
      // at most 20 s, and the last refusal is what a failure shows.
      let last = '';
      const ok = await waitFor(`container ${c} paused`, async () => {
        const r = await probe(['docker', 'pause', c]);
        last = `${r.stdout}${r.stderr}`;
        if (r.exitCode === 0) return true;
        const st = await probe(['docker', 'inspect', '--format', '{{.State.Status}}', c]);
        return st.stdout.trim() === 'paused';
      }, { timeoutMs: 20_000, intervalMs: 500 }).catch(() => false);
      if (!ok) throw new StackportError(`volume ${volume}: container ${c} cannot be paused, so the copy would not be consistent`, { details: last });
      paused.push(c);
    }
    return await fn();
  } finally {
    for (const c of paused) await probe(['docker', 'unpause', c]);
  }
}

export async function copyVolume(mounts: ComposeMount[], t: FilesTarget, options: { force?: boolean; before?: () => Promise<void> } = {}): Promise<VolumeCopyResult> {
  const started = Date.now();
  const m = mounts[0]!;
  const volume = m.volume ?? m.source;
  const { kubectl: k, namespace: ns, claim } = t;
  const before = await recorded(k, ns, volume);
  const source = await composeSum(m);
  const livePod = `${claim.workload}-0`;
  const live = await probe([k.binary, '--kubeconfig', k.kubeconfig, 'exec', '-n', ns, livePod, '--', 'sh', '-c', TREE_SUM, claim.mountPath]);
  const cluster = live.exitCode === 0 ? parseTreeSum(live.stdout) : undefined;
  if (!options.force && before.sha256 && cluster && cluster.sha256 !== before.sha256) {
    throw new StackportError(`volume ${volume}: the cluster's copy changed since it was copied (${before.at}); copying again would overwrite what the cluster wrote since`, {
      hint: 'to copy anyway, run migrate with --force-data (the cluster side is replaced by the Compose volume)',
    });
  }
  if (!options.force && before.sha256 === source.sha256 && cluster?.sha256 === source.sha256) {
    return { volume, service: m.service, action: 'unchanged', files: source.files, bytes: source.bytes, sha256: source.sha256, ms: Date.now() - started };
  }
  await options.before?.();
  const helper = `stackport-copy-${claim.workload}`.slice(0, 63);
  const scale = (n: number) => k.run(['scale', '-n', ns, `statefulset/${claim.workload}`, `--replicas=${n}`]);
  // What the claim holds is about to be replaced, so its pods need no graceful stop: an app that
  // ignores SIGTERM (PID 1 without a handler, as a plain `python3 app.py` is) would otherwise hold
  // the copy for its whole terminationGracePeriodSeconds (30 s by default). They are deleted with
  // a 1 s grace before the scale to 0, because the kubelet keeps the first grace period a pod's
  // deletion was given (a shorter second delete was measured to change nothing: 31 s).
  const pods = Array.from({ length: Math.max(claim.replicas, 1) }, (_, i) => `${claim.workload}-${i}`);
  await k.run(['delete', 'pod', '-n', ns, ...pods, '--ignore-not-found', '--grace-period=1', '--wait=false']);
  await scale(0);
  try {
    await waitFor(`pods of ${claim.workload} to stop`, async () => {
      const r = await k.run(['get', 'pods', '-n', ns, ...pods, '--ignore-not-found', '-o', 'name']);
      return r.stdout.trim() === '';
    }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: helper, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'stackport-migrate' } },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'copy', image: claim.image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], securityContext: { runAsUser: 0 }, volumeMounts: [{ name: 'data', mountPath: '/dst' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim.claim } }],
      },
    };
    await k.run(['delete', 'pod', '-n', ns, helper, '--ignore-not-found', '--wait=true']);
    await k.run(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await k.run(['wait', '-n', ns, `pod/${helper}`, '--for=condition=Ready', `--timeout=${STEP_TIMEOUT_MS / 1000}s`], { timeoutMs: STEP_TIMEOUT_MS + 10_000 });
    await k.run(['exec', '-n', ns, helper, '--', 'sh', '-c', 'find /dst -mindepth 1 -delete']);
    const copied = await whilePaused([...new Set(mounts.map((x) => x.container))], volume, async () => {
      const sum = await composeSum(m);
      await pipe(
        ['docker', 'run', '--rm', '-i', '--entrypoint', 'tar', '-v', `${m.source}:/src:ro`, await readerImage(m), '-C', '/src', '-cf', '-', '.'],
        [k.binary, '--kubeconfig', k.kubeconfig, 'exec', '-i', '-n', ns, helper, '--', 'tar', '-C', '/dst', '-xf', '-'],
        { what: `copy volume ${volume} into claim ${claim.claim}`, timeoutMs: 30 * 60_000 },
      );
      return sum;
    });
    const landed = await podSum(k, ns, helper, '/dst');
    if (landed.sha256 !== copied.sha256) {
      throw new StackportError(`volume ${volume}: the checksum differs after the copy (Compose ${copied.files} files ${copied.sha256.slice(0, 12)}, cluster ${landed.files} files ${landed.sha256.slice(0, 12)})`, {
        hint: 'run migrate again; the Compose volume was not changed',
      });
    }
    await k.run(['delete', 'pod', '-n', ns, helper, '--wait=true']);
    await scale(claim.replicas);
    await k.run(['rollout', 'status', '-n', ns, `statefulset/${claim.workload}`, `--timeout=${STEP_TIMEOUT_MS / 1000}s`], { timeoutMs: STEP_TIMEOUT_MS + 10_000 });
    await record(k, ns, volume, copied);
    return { volume, service: m.service, action: 'copied', files: copied.files, bytes: copied.bytes, sha256: copied.sha256, ms: Date.now() - started };
  } catch (err) {
    await k.run(['delete', 'pod', '-n', ns, helper, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await scale(claim.replicas).catch(() => undefined);
    throw err;
  }
}
