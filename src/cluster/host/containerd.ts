import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { probe, run } from '../../exec/run.js';
import { StackportError } from '../../errors.js';
import { waitFor } from '../../exec/wait.js';
import { HOST } from '../build/cache.js';
import { CERTS_D } from '../addons/registry.js';
import { livePid, startDaemon, stopDaemon } from './daemon.js';

/**
 * The cluster's own containerd (built 2.x, see docs/cluster.md): its own config, root, state and
 * socket, so it never meets the Docker engine's containerd (/var/run/docker/containerd).
 */
export interface ContainerdConfigInput {
  sandboxImage: string;
  cniBinDir: string;
  runc?: string;
}

/** containerd config version 3 (containerd 2.x). */
export function containerdConfig(i: ContainerdConfigInput): string {
  return `# written by stackport (src/cluster/containerd.ts); containerd 2.x config format
version = 3
root = '${HOST.containerdRoot}'
state = '${HOST.containerdState}'
# NRI would listen on /var/run/nri/nri.sock, shared with any other containerd; not used here
disabled_plugins = ['io.containerd.nri.v1.nri']

[grpc]
  address = '${HOST.containerdSocket}'

[ttrpc]
  address = '${HOST.containerdSocket}.ttrpc'

[debug]
  address = ''

[plugins.'io.containerd.internal.v1.opt']
  path = '${HOST.containerdRoot}/opt'

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    # kubeadm's pause tag, imported locally (else the CRI would try to pull its default)
    sandbox = '${i.sandboxImage}'
  # registry hosts (hosts.toml per host, KEP-1755): the local registry, src/cluster/registry.ts
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = '${CERTS_D}'

[plugins.'io.containerd.cri.v1.runtime']
  # This host's capability bounding set lacks CAP_SYS_RESOURCE, so runc cannot lower
  # oom_score_adj below containerd's own: without this no pod sandbox starts ("can't get final
  # child's PID from pipe: EOF"). Clamps requested values instead.
  restrict_oom_score_adj = true
  # cgroup v1 without the hugetlb controller
  tolerate_missing_hugetlb_controller = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        # no systemd: cgroupfs, matching the kubelet's cgroupDriver
        SystemdCgroup = false
        BinaryName = '${i.runc ?? '/usr/sbin/runc'}'
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['${i.cniBinDir}']
    conf_dir = '${HOST.cniConfDir}'
    max_conf_num = 1
`;
}

export function ctrArgv(ctr: string, ...args: string[]): string[] {
  return [ctr, '--address', HOST.containerdSocket, '--namespace', 'k8s.io', ...args];
}

export async function containerdRunning(containerd: string): Promise<number | undefined> {
  return livePid('containerd', containerd);
}

/** Starts containerd (unless ours already runs) and waits until its socket answers. */
export async function startContainerd(binDir: string, cfg: ContainerdConfigInput, log: string): Promise<void> {
  const containerd = join(binDir, 'containerd');
  await mkdir(dirname(HOST.containerdConfig), { recursive: true });
  await mkdir(HOST.containerdState, { recursive: true });
  await mkdir(HOST.cniConfDir, { recursive: true });
  await writeFile(HOST.containerdConfig, containerdConfig(cfg));
  if (!(await containerdRunning(containerd))) {
    await startDaemon({
      name: 'containerd',
      argv: [containerd, '--config', HOST.containerdConfig],
      log,
      // our containerd-shim-runc-v2 first (Debian's 1.6 shim may also be on PATH)
      env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    });
  }
  await waitFor(
    'containerd to answer on its socket',
    async (ctl) => {
      const r = await probe([join(binDir, 'ctr'), '--address', HOST.containerdSocket, 'version'], { timeoutMs: 5000 });
      if (r.exitCode === 0) return true;
      if (!(await containerdRunning(containerd))) ctl.abort(new StackportError('containerd exited during start', { hint: `see ${log}`, details: r.stderr.trim() || undefined }));
      ctl.seen(r.stderr.trim());
      return false;
    },
    { timeoutMs: 60_000, intervalMs: 250, hint: `see ${log}` },
  );
}

export async function stopContainerd(binDir: string): Promise<boolean> {
  return stopDaemon('containerd', join(binDir, 'containerd'), 15_000);
}

/** Names of images in the k8s.io namespace. */
export async function listImages(ctr: string): Promise<Set<string>> {
  const r = await run(ctrArgv(ctr, 'images', 'ls', '-q'), { what: 'ctr images ls' });
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

/** ctr shows short names (e.g. "local/x:1") under their fully qualified name. */
export function qualified(name: string): string {
  const first = name.split('/')[0]!;
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const withRepo = hasRegistry ? name : `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  return /:[^/]+$/.test(withRepo) || withRepo.includes('@') ? withRepo : `${withRepo}:latest`;
}

/** Imports an archive (docker-save or OCI) into k8s.io, pinned so the kubelet's image GC keeps it. */
export async function importArchive(ctr: string, archive: string | { stdin: Buffer }): Promise<void> {
  const args = ['images', 'import', '--label', 'io.cri-containerd.pinned=pinned', '--platform', 'linux/amd64'];
  if (typeof archive === 'string') {
    await run(ctrArgv(ctr, ...args, archive), { what: `ctr images import ${archive}`, timeoutMs: 10 * 60_000 });
  } else {
    await run(ctrArgv(ctr, ...args, '-'), { what: 'ctr images import -', input: archive.stdin, timeoutMs: 10 * 60_000 });
  }
}
