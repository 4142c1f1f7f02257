import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { probe } from '../../exec/run.js';
import { waitFor } from '../../exec/wait.js';
import type { Progress } from '../../ui/progress.js';
import { HOST } from '../build/cache.js';
import { BRIDGE, removeCniState } from './cni.js';
import { containerdRunning, startContainerd, stopContainerd, type ContainerdConfigInput } from './containerd.js';
import { cmdline, isAlive, readPid, stopGroup } from './daemon.js';
import { stopEntry } from './entry.js';
import { deleteLink, removeOwnedIptables } from './network.js';
import { stopKubeletSupervisor } from './kubelet-supervisor.js';
import { mountsUnder, unmountUnder } from './mounts.js';

/**
 * `down`: removes the cluster from the host, in the order that lets each step work, and only
 * what the cluster made (processes by recorded pid or by their own socket/cgroup; KUBE-/CNI-/
 * STACKPORT- iptables chains; cni0; mounts under the kubelet's and our own dirs). The Docker
 * engine, its containerd and the Compose stack are not touched. The image store under
 * /var/lib/stackport/containerd is kept, so the next `up` does not import again.
 * Also used by `up` to clear what a killed run left behind.
 */
export interface TeardownInput {
  binDir: string;
  containerd: ContainerdConfigInput;
  /** repo-local files to remove (kubeconfig) */
  files: string[];
  log: string;
  progress: Progress;
  /** keep the local-path volume directories (a reset by `up`; `down` removes them) */
  keepVolumes?: boolean;
}

/** Mount prefixes owned by the cluster. */
export const OWNED_MOUNTS = ['/var/lib/kubelet', HOST.run, HOST.lib];

export const KUBE_DIRS = ['/etc/kubernetes', '/var/lib/kubelet', '/var/lib/etcd'];

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Anything of a cluster on this host (running or left behind by a killed run)? */
export async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  for (const p of ['/etc/kubernetes/manifests', '/var/lib/kubelet', '/var/lib/etcd', HOST.run, HOST.state]) {
    if (await exists(p)) found.push(p);
  }
  if ((await mountsUnder(OWNED_MOUNTS)).length) found.push('mounts');
  if ((await probe(['ip', 'link', 'show', BRIDGE])).exitCode === 0) found.push(BRIDGE);
  return found;
}

/** Processes in the kubelet's cgroups (cgroupfs driver, cgroup root "kubepods"), any v1 controller or v2. */
export async function podProcesses(): Promise<number[]> {
  const roots = ['/sys/fs/cgroup/pids/kubepods', '/sys/fs/cgroup/memory/kubepods', '/sys/fs/cgroup/cpu,cpuacct/kubepods', '/sys/fs/cgroup/kubepods'];
  const pids = new Set<number>();
  const walk = async (dir: string) => {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const l of procs.split('\n')) if (l.trim()) pids.add(Number(l));
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(join(dir, e.name));
  };
  for (const r of roots) await walk(r);
  return [...pids];
}

/** Removes the kubepods cgroup trees (deepest first) once they are empty. */
async function removePodCgroups(): Promise<void> {
  const base = '/sys/fs/cgroup';
  const controllers = await readdir(base).catch(() => [] as string[]);
  const dirs = [join(base, 'kubepods'), ...controllers.map((c) => join(base, c, 'kubepods'))];
  const remove = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await remove(join(dir, e.name));
    await rmdir(dir).catch(() => undefined);
  };
  for (const d of dirs) if (await exists(d)) await remove(d);
}

/** containerd shims that belong to our containerd (they name its socket in their argv). */
export async function ourShims(): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const argv = await cmdline(Number(e));
    if (!argv?.[0]?.endsWith('containerd-shim-runc-v2')) continue;
    const i = argv.indexOf('-address');
    if (i >= 0 && argv[i + 1] === HOST.containerdSocket) out.push(Number(e));
  }
  return out;
}

export async function teardown(i: TeardownInput): Promise<void> {
  const { progress } = i;
  const kubeadm = join(i.binDir, 'kubeadm');
  await progress.step('stop app entry', () => stopEntry());
  await progress.step('stop kubelet', () => stopKubeletSupervisor(join(i.binDir, 'kubelet')));
  if (await exists('/etc/kubernetes') || await exists('/var/lib/kubelet') || await exists('/var/lib/etcd')) {
    await progress.step('kubeadm reset', async () => {
      // reset removes the pods through the CRI: our containerd must answer for that
      const haveContainerd = (await exists(join(i.binDir, 'containerd'))) && (await exists(HOST.containerdConfig));
      if (haveContainerd && !(await containerdRunning(join(i.binDir, 'containerd')))) {
        await startContainerd(i.binDir, i.containerd, i.log).catch(() => undefined);
      }
      if (await exists(kubeadm)) {
        await probe([kubeadm, 'reset', '-f', '--cri-socket', `unix://${HOST.containerdSocket}`], {
          timeoutMs: 180_000,
          env: { ...process.env, PATH: `${i.binDir}:${process.env.PATH ?? ''}` },
          onOutput: (c) => progress.info(c.trimEnd()),
        });
      }
    });
  }
  await progress.step('stop containerd and pods', async () => {
    await stopContainerd(i.binDir);
    // whatever is still in the pod cgroups (reset could not reach it) and our shims
    for (const pid of await podProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of await ourShims()) await stopGroup(pid, 2000);
    await waitFor('the pod processes to exit', async () => !(await podProcesses()).some(isAlive), { timeoutMs: 5000, intervalMs: 100 }).catch((e: Error) => progress.warn(e.message));
    await removePodCgroups();
  });
  await progress.step('unmount, network, files', async () => {
    const stuck = await unmountUnder(OWNED_MOUNTS);
    if (stuck.length) progress.warn(`still mounted: ${stuck.join(', ')}`);
    // network namespaces the CRI created (docker keeps its own under /var/run/docker/netns)
    for (const e of await readdir('/run/netns').catch(() => [] as string[])) {
      if (!e.startsWith('cni-')) continue;
      await unmountUnder([join('/run/netns', e)]);
      await rm(join('/run/netns', e), { force: true });
    }
    await removeOwnedIptables();
    await deleteLink(BRIDGE);
    await removeCniState();
    for (const d of KUBE_DIRS) await rm(d, { recursive: true, force: true }).catch(() => undefined);
    if (!i.keepVolumes) await rm(HOST.localVolumes, { recursive: true, force: true });
    await rm(HOST.state, { force: true });
    await rm(HOST.run, { recursive: true, force: true });
    for (const f of i.files) await rm(f, { force: true });
  });
}

/**
 * Every process of the cluster, by pid (never by name): the recorded daemons (containerd, the
 * kubelet supervisor, the kubelet, the entry), our containerd's shims, and everything in the pod
 * cgroups (static pods included).
 */
export async function clusterProcesses(): Promise<number[]> {
  const named = await Promise.all(['containerd', 'kubelet-supervisor', 'kubelet', 'entry-forward'].map(readPid));
  const pids = new Set<number>([...named.filter((p): p is number => p !== undefined), ...(await ourShims()), ...(await podProcesses())]);
  return [...pids].filter(isAlive);
}

/** A reboot's effect on the processes (tests, bench): SIGKILL to every cluster process; the state on disk stays. */
export async function killClusterProcesses(): Promise<number[]> {
  const pids = await clusterProcesses();
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await waitFor('every cluster process gone', async () => !pids.some(isAlive), { timeoutMs: 20_000, intervalMs: 100 });
  return pids;
}
