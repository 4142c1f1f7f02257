import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { hostCmder, runActions, type Action, type ActionContext } from '../../exec/actions.js';
import { pipe } from '../../exec/pipe.js';
import { probe, run, which, type RunOptions } from '../../exec/run.js';
import { waitFor } from '../../exec/wait.js';
import { StackportError } from '../../errors.js';
import { imageId } from '../../engine/images.js';
import { ConsoleProgress, SilentProgress, type Progress } from '../../ui/progress.js';
import { CacheLayout, HOST } from '../build/cache.js';
import { teardown, leftovers } from '../host/cleanup.js';
import { containerdRunning, ctrArgv, importArchive, listImages, qualified, startContainerd, type ContainerdConfigInput } from '../host/containerd.js';
import { writeCniConfig } from '../host/cni.js';
import { livePid, processStartMs } from '../host/daemon.js';
import { ENTRY_URL, startEntry } from '../host/entry.js';
import { buildCluster, type ClusterBuild } from '../build/cluster-build.js';
import { enableForwarding, ensureForwardAccept, nodeIp } from '../host/network.js';
import { ensureHostPackages } from '../host/packages.js';
import { parseImagesList } from '../build/images.js';
import { BARE_NAMES_MARK, corefileOf, withBareNamesKept } from '../build/coredns.js';
import { KUBEADM_PATCHES_DIR, kubeadmConfig, kubeadmPatches } from './kubeadm-config.js';
import { hostState, readRecord, resetNotice, volumeDirs, type ClusterRecord } from '../host/kubeadm-state.js';
import { kubeletPid, startKubeletSupervisor, supervisorPid } from '../host/kubelet-supervisor.js';
import { Kubectl } from '../kubectl.js';
import { LOCAL_PATH_NAMESPACE, STORAGE_CLASS, localPathManifests } from '../addons/local-path.js';
import { deployPolicyEngine, POLICY_ENGINE_IMAGE, POLICY_ENGINE_NAME, POLICY_ENGINE_NAMESPACE } from '../addons/policy-engine.js';
import { deployMetricsServer, metricsServerDeployed, METRICS_SERVER_IMAGE, METRICS_SERVER_NAMESPACE, type KubectlLike } from '../addons/metrics-server.js';
import { withHostLock } from '../host/lock.js';
import type { ClusterProvider, ClusterStatus, CreateOptions, NodeInfo, ProviderContext } from './provider.js';
import { KUBERNETES_VERSION } from '../build/versions.js';

/** containerd label holding the Docker engine's image ID an image was loaded from. */
const IMAGE_ID_LABEL = 'stackport.docker-image-id';

const ADMIN_CONF = '/etc/kubernetes/admin.conf';

export interface KubeadmCreateContext extends ActionContext {
  ip: string;
  nodeName: string;
  built?: ClusterBuild;
}

export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; containerID?: string; state?: { running?: { startedAt?: string } } }[];
  };
}

/**
 * Why these pods are not ready yet (empty: ready). With `running` (ids of the containerd tasks
 * that run now), a container whose task is gone counts as not ready whatever the API says: after
 * a reboot the API shows the statuses of before until the kubelet has replaced the containers.
 */
export function podProblems(label: string, pods: PodJson[], running?: Set<string>): string[] {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  if (!live.length) return [`${label}: no pod yet`];
  const out: string[] = [];
  for (const p of live) {
    const ready = p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const cs = p.status.containerStatuses ?? [];
    const stale = running !== undefined && cs.some((c) => !running.has((c.containerID ?? '').replace(/^containerd:\/\//, '')));
    if (!ready || !cs.length || cs.some((c) => !c.ready)) out.push(`${label}: ${p.metadata.name} not ready (${p.status.phase ?? '?'})`);
    else if (stale) out.push(`${label}: ${p.metadata.name} still shows its status from before the restart`);
  }
  return out;
}

/** Ids of the tasks (containers) our containerd runs now (`ctr tasks ls`: TASK PID STATUS). */
export function runningTasks(ctrTasksLs: string): Set<string> {
  return new Set(ctrTasksLs.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[2] === 'RUNNING').map((f) => f[0]!));
}

/** One DNS question to a given server (the kube-dns Service), as a pod would ask it. */
async function resolveVia(server: string, name: string): Promise<string[]> {
  const r = new Resolver({ timeout: 1500, tries: 1 });
  r.setServers([server]);
  return r.resolve4(name);
}

/** `fn`'s last answer, asked again only when older than `maxAgeMs`: one look shared by waits that run side by side. */
export function snapshot<T>(maxAgeMs: number, fn: () => Promise<T>): () => Promise<T> {
  let at = 0;
  let last: Promise<T> | undefined;
  return () => {
    if (!last || Date.now() - at > maxAgeMs) {
      at = Date.now();
      last = fn();
    }
    return last;
  };
}

/**
 * A single-node kubeadm cluster on this host, built from Go modules, with no registry and no
 * systemd. create() is a list of actions (createActions, docs/cluster.md), each with a done-check:
 * a healthy cluster makes it a quick no-op, a failed run is resumed, a rebooted host is restarted.
 */
export class KubeadmProvider implements ClusterProvider {
  readonly name = 'kubeadm' as const;
  readonly cache: CacheLayout;
  readonly stateDir: string;
  readonly logDir: string;

  constructor(
    readonly ctx: ProviderContext,
    readonly version = KUBERNETES_VERSION,
  ) {
    this.cache = new CacheLayout(version);
    this.stateDir = join(ctx.root, '.stackport');
    this.logDir = join(this.stateDir, 'logs');
  }

  private bin(name: string): string {
    return this.cache.binary(name);
  }

  private get kubeconfigPath(): string {
    return join(this.stateDir, 'kubeconfig');
  }

  private kubectl(): Kubectl {
    return new Kubectl(this.bin('kubectl'), this.kubeconfigPath);
  }

  private containerdInput(sandboxImage: string): ContainerdConfigInput {
    return { sandboxImage, cniBinDir: this.cache.cniBin };
  }

  private log(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.cache.bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  }

  entry(): string {
    return ENTRY_URL;
  }

  /** The repo's copy of the admin kubeconfig, copied again when the cluster was made anew since (by this checkout or another one). */
  async kubeconfig(): Promise<string> {
    const admin = await readFile(ADMIN_CONF, 'utf8').catch(() => undefined);
    const copy = await readFile(this.kubeconfigPath, 'utf8').catch(() => undefined);
    if (admin !== undefined && admin !== copy) await this.copyKubeconfig();
    else if (admin === undefined && copy === undefined) throw new StackportError('no cluster: the kubeconfig does not exist', { hint: 'run `make cluster-up` first' });
    return this.kubeconfigPath;
  }

  private async copyKubeconfig(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await copyFile(ADMIN_CONF, this.kubeconfigPath);
  }

  async create(options: CreateOptions = {}): Promise<void> {
    if (process.getuid?.() !== 0) throw new StackportError('the kubeadm provider needs root', { hint: 'run as root (sudo)' });
    const progress = options.progress ?? new ConsoleProgress();
    await withHostLock(async () => {
      const ctx: KubeadmCreateContext = { cmd: hostCmder, progress, ip: await nodeIp(), nodeName: hostname().toLowerCase().split('.')[0]! };
      await mkdir(this.logDir, { recursive: true });
      await runActions(this.createActions(), ctx, {
        what: 'cluster up (kubeadm)',
        hint: `a re-run (make cluster-up) resumes at the failed action; logs in ${this.logDir}`,
      });
    });
  }

  /** kubectl on the admin kubeconfig, through the context's command seam. */
  private admin(c: ActionContext): KubectlLike & { binary: string; kubeconfig: string } {
    const binary = this.bin('kubectl');
    const kubeconfig = ADMIN_CONF;
    const kc = {
      binary,
      kubeconfig,
      run: (args: string[], o: RunOptions = {}) => c.cmd.run([binary, '--kubeconfig', kubeconfig, ...args], { what: `kubectl ${args.join(' ')}`, timeoutMs: 120_000, ...o }),
      apply: (yaml: string) => kc.run(['apply', '-f', '-'], { input: yaml }),
    };
    return kc;
  }

  /**
   * `up` as a list of actions (src/exec/actions.ts). Each looks at the host or the cluster to see
   * whether it is done, so a re-run after a failure resumes, and `up` after a reboot (processes
   * gone, state on disk) starts containerd, the kubelet and the entry again and keeps etcd and the
   * volumes. Only a broken state (reset-broken-state) is reset.
   */
  createActions(): Action<KubeadmCreateContext>[] {
    const built = (c: KubeadmCreateContext): ClusterBuild => {
      if (!c.built) throw new StackportError('internal: the build action did not run');
      return c.built;
    };
    return [
      { name: 'host-packages', ownProgress: true, run: (c) => ensureHostPackages(c.progress) },
      {
        name: 'build',
        ownProgress: true,
        run: async (c) => {
          c.built = await buildCluster(c.progress, this.version);
        },
      },
      {
        name: 'reset-broken-state',
        title: 'reset a broken cluster',
        done: async (c) => (await hostState(c.ip, this.version)).kind !== 'broken',
        run: async (c) => {
          const s = await hostState(c.ip, this.version);
          if (s.kind !== 'broken') return;
          c.progress.warn(resetNotice(s.reasons, await volumeDirs()));
          await this.teardown(c.progress, built(c).list.pause, true);
        },
      },
      {
        name: 'host-network',
        title: 'host network',
        run: async () => {
          await enableForwarding();
          await ensureForwardAccept();
          await writeCniConfig();
        },
      },
      {
        name: 'containerd',
        title: 'start containerd',
        done: async (c) => Boolean(await containerdRunning(this.bin('containerd'))) && (await c.cmd.probe(ctrArgv(this.bin('ctr'), 'version'), { timeoutMs: 5000 })).exitCode === 0,
        run: (c) => startContainerd(this.cache.bin, this.containerdInput(built(c).list.pause), this.log('containerd')),
      },
      {
        name: 'images',
        title: 'import images',
        done: async (c) => {
          const present = await listImages(this.bin('ctr'));
          return built(c).images.images.every((i) => present.has(i.name));
        },
        run: async (c, update) => {
          const present = await listImages(this.bin('ctr'));
          for (const img of built(c).images.images) {
            if (present.has(img.name)) continue;
            update(img.name);
            await importArchive(this.bin('ctr'), img.archive);
          }
        },
      },
      {
        name: 'kubelet-supervisor',
        title: 'start the kubelet supervisor',
        done: async () => Boolean(await supervisorPid()),
        run: async (c) => {
          // a state without a finished init has no kubelet config; stale files would start the
          // kubelet before kubeadm's preflight (Port-10250)
          if ((await hostState(c.ip, this.version)).kind === 'none') {
            await rm('/var/lib/kubelet/config.yaml', { force: true });
            await rm('/var/lib/kubelet/kubeadm-flags.env', { force: true });
          }
          await startKubeletSupervisor(this.bin('kubelet'), this.log('kubelet'));
        },
      },
      {
        name: 'kubeadm-init',
        title: 'kubeadm init',
        // the control plane is there: init finished for this release and address, certificates,
        // manifests, etcd data and the kubelet's config on disk (the kubelet restarts the rest)
        done: async (c) => (await hostState(c.ip, this.version)).kind === 'intact',
        run: (c) => this.kubeadmInit(c),
      },
      { name: 'kubeconfig', title: 'kubeconfig', run: () => this.copyKubeconfig() },
      {
        name: 'api-server',
        title: 'API server answers',
        run: async (c) => {
          const k = this.admin(c);
          await waitFor('the API server (/readyz)', (ctl) => k.run(['get', '--raw', '/readyz'], { timeoutMs: 10_000 }).then((r) => r.stdout.trim() === 'ok' || (ctl.seen(r.stdout.trim()), false)), {
            timeoutMs: 180_000,
            intervalMs: 500,
            hint: `see ${this.log('kubelet')} and /var/log/pods/kube-system_kube-apiserver-*`,
          });
        },
      },
      {
        name: 'coredns-bare-names',
        title: 'CoreDNS: single-label names answered NXDOMAIN, not forwarded',
        done: async (c) => (await corefileOf(this.admin(c))).includes(BARE_NAMES_MARK),
        run: async (c) => {
          const k = this.admin(c);
          await k.run(['-n', 'kube-system', 'patch', 'configmap', 'coredns', '--type=merge', '-p', JSON.stringify({ data: { Corefile: withBareNamesKept(await corefileOf(k)) } })]);
          // a pod that mounted the old Corefile takes the new one only at its reload (the kubelet's
          // sync, then 30 s): the pods start again with it now (right after init they are not up yet)
          await k.run(['-n', 'kube-system', 'rollout', 'restart', 'deployment/coredns']);
        },
      },
      {
        name: 'storage-class',
        title: 'storage class (local-path)',
        done: async (c) => {
          const r = await this.admin(c).run(['-n', LOCAL_PATH_NAMESPACE, 'get', `storageclass/${STORAGE_CLASS}`, 'configmap/local-path-config', 'deployment/local-path-provisioner', '-o', 'jsonpath={range .items[*]}{.kind}={.spec.template.spec.containers[0].image},{.spec.template.spec.containers[0].env[?(@.name=="KUBERNETES_SERVICE_HOST")].value}{"\\n"}{end}']);
          const lines = r.stdout.trim().split('\n');
          return lines.length === 3 && lines.includes(`Deployment=${built(c).images.localPath},${c.ip}`);
        },
        run: async (c) => {
          const k = this.admin(c);
          await k.apply(localPathManifests(built(c).images.localPath, built(c).images.helper, { apiServer: { host: c.ip, port: 6443 }, helperPodFromFile: true }));
          // taints: [] in the InitConfiguration; this keeps an older state consistent
          await c.cmd.probe([k.binary, '--kubeconfig', k.kubeconfig, 'taint', 'nodes', '--all', 'node-role.kubernetes.io/control-plane:NoSchedule-']);
        },
      },
      {
        // applied here, not awaited here: it starts beside CoreDNS and system-pods waits for both
        name: 'policy-engine',
        title: 'NetworkPolicy engine (kube-router, applied)',
        done: async (c) => {
          const r = await this.admin(c).run(['-n', POLICY_ENGINE_NAMESPACE, 'get', `daemonset/${POLICY_ENGINE_NAME}`, '-o', 'jsonpath={.spec.template.spec.containers[0].image},{.spec.template.spec.containers[0].env[?(@.name=="KUBERNETES_SERVICE_HOST")].value}']);
          return r.stdout.trim() === `${POLICY_ENGINE_IMAGE},${c.ip}`;
        },
        run: (c) =>
          deployPolicyEngine(this.admin(c), (archive) => importArchive(this.bin('ctr'), archive), {
            progress: c.progress,
            cache: this.cache,
            hasImage: (i) => this.hasImage(i),
            apiServer: { host: c.ip, port: 6443 },
            waitForRollout: false,
          }),
      },
      // before the waits: its pod starts beside the system pods, and its APIService waits only for
      // kube-proxy's rule for its ClusterIP (which system-pods waits for anyway), not for metrics-server
      {
        name: 'metrics-server',
        title: 'metrics-server (applied, not awaited)',
        done: (c) => metricsServerDeployed(this.admin(c)),
        run: (c) =>
          deployMetricsServer(this.admin(c), (archive) => importArchive(this.bin('ctr'), archive), {
            progress: new SilentProgress(),
            cache: this.cache,
            hasImage: (i) => this.hasImage(i),
            waitMs: 0,
            waitForRollout: false,
            probe: (argv) => c.cmd.probe(argv),
          }),
      },
      { name: 'node-ready', title: 'node Ready', run: (c) => this.waitNodeReady(c, 180_000) },
      { name: 'system-pods', title: 'system pods ready, DNS answers', ownProgress: true, run: (c) => this.waitSystemPods(c, 240_000) },
      { name: 'entry', title: 'app entry 127.0.0.1:8090', run: (c) => startEntry(c.ip, this.log('entry-forward')) },
    ];
  }

  private async kubeadmInit(c: KubeadmCreateContext): Promise<void> {
    await writeFile(HOST.kubeadmConfig, kubeadmConfig({ kubernetesVersion: this.version, nodeName: c.nodeName, nodeIp: c.ip }));
    await rm(KUBEADM_PATCHES_DIR, { recursive: true, force: true });
    await mkdir(KUBEADM_PATCHES_DIR, { recursive: true });
    for (const [file, text] of Object.entries(kubeadmPatches({ nodeIp: c.ip }))) await writeFile(join(KUBEADM_PATCHES_DIR, file), text);
    const logFile = this.log('kubeadm-init');
    const out = createWriteStream(logFile);
    try {
      await c.cmd.run([this.bin('kubeadm'), 'init', '--config', HOST.kubeadmConfig, '--skip-token-print', '--v=1'], {
        env: this.env(),
        what: 'kubeadm init',
        hint: `see ${logFile} and ${this.log('kubelet')}`,
        timeoutMs: 10 * 60_000,
        onOutput: (chunk) => void out.write(chunk),
      });
    } finally {
      await new Promise((r) => out.end(r));
    }
    // written last: with the files on disk, the record that init finished (hostState 'intact')
    await writeFile(HOST.state, JSON.stringify({ kubernetesVersion: this.version, nodeIp: c.ip, nodeName: c.nodeName, createdAt: new Date().toISOString() } satisfies ClusterRecord));
  }

  /**
   * The node Ready, reported by the kubelet that runs now: after a reboot the API shows the status
   * of before until the node controller notices (40 s), so the Ready heartbeat must be newer than
   * the kubelet process (which reports at its start).
   */
  private async waitNodeReady(c: KubeadmCreateContext, timeoutMs: number): Promise<void> {
    const k = this.admin(c);
    await waitFor(
      'the node Ready',
      async (ctl) => {
        const pid = await kubeletPid(this.bin('kubelet'));
        if (!pid) {
          ctl.seen('the kubelet is not running (the supervisor restarts it)');
          return false;
        }
        const since = Math.floor(((await processStartMs(pid)) ?? 0) / 1000) * 1000 - 1000;
        const list = JSON.parse((await k.run(['get', 'nodes', '-o', 'json'])).stdout) as { items: { metadata: { name: string }; status: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] } }[] };
        const seen = list.items.map((n) => {
          const r = n.status.conditions?.find((x) => x.type === 'Ready');
          const fresh = !since || (r?.lastHeartbeatTime ? Date.parse(r.lastHeartbeatTime) >= since : false);
          return { name: n.metadata.name, ok: r?.status === 'True' && fresh, text: `${n.metadata.name}: Ready=${r?.status ?? '?'}${fresh ? '' : ' (from before the restart)'}` };
        });
        ctl.seen(seen.map((x) => x.text).join(', ') || 'no node registered');
        return seen.length > 0 && seen.every((x) => x.ok);
      },
      { timeoutMs, intervalMs: 500, hint: `see ${this.log('kubelet')} and ${this.log('containerd')}` },
    );
  }

  /**
   * kube-proxy, CoreDNS, local-path-provisioner and the NetworkPolicy engine Ready (their
   * containers running in containerd now, not only in the API's memory of before a restart), and
   * DNS answering through the kube-dns Service from this host. One wait (and one step with its
   * own time) per component, side by side; they share one pod listing and one `ctr tasks ls` per
   * round, so four waits cost no more processes than one.
   */
  private async waitSystemPods(c: KubeadmCreateContext, timeoutMs: number): Promise<void> {
    const k = this.admin(c);
    const dnsIp = (await k.run(['-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
    const tasks = snapshot(400, async () => runningTasks((await c.cmd.run(ctrArgv(this.bin('ctr'), 'tasks', 'ls'), { what: 'ctr tasks ls' })).stdout));
    const pods = snapshot(400, async () => (JSON.parse((await k.run(['get', 'pods', '--all-namespaces', '-o', 'json'])).stdout) as { items: (PodJson & { metadata: { namespace?: string; labels?: Record<string, string> } })[] }).items);
    const groups: { ns: string; label: [string, string]; name: string; dns?: boolean }[] = [
      { ns: 'kube-system', label: ['k8s-app', 'kube-proxy'], name: 'kube-proxy' },
      { ns: 'kube-system', label: ['k8s-app', 'kube-dns'], name: 'CoreDNS', dns: true },
      { ns: LOCAL_PATH_NAMESPACE, label: ['app', 'local-path-provisioner'], name: 'local-path-provisioner' },
      { ns: POLICY_ENGINE_NAMESPACE, label: ['k8s-app', POLICY_ENGINE_NAME], name: POLICY_ENGINE_NAME },
    ];
    let failed: Error | undefined;
    await Promise.all(
      groups.map((g) =>
        c.progress.step(`${g.name} ready${g.dns ? ', DNS answers' : ''}`, () =>
          waitFor(
            `${g.name} ready${g.dns ? ' and DNS answering' : ''}`,
            async (ctl) => {
              if (failed) ctl.abort(failed);
              const mine = (await pods()).filter((p) => p.metadata.namespace === g.ns && p.metadata.labels?.[g.label[0]] === g.label[1]);
              const problems = podProblems(g.name, mine, await tasks());
              if (!problems.length && g.dns) {
                const answer = await resolveVia(dnsIp, 'kubernetes.default.svc.cluster.local').catch((e: Error) => e);
                if (answer instanceof Error) problems.push(`DNS ${dnsIp}: ${answer.message}`);
              }
              ctl.seen(problems.join('; '));
              return problems.length === 0;
            },
            { timeoutMs, intervalMs: 250, hint: `kubectl -n ${g.ns} get pods -l ${g.label.join('=')}` },
          ).catch((e: Error) => {
            failed ??= e;
            throw e;
          }),
        ),
      ),
    );
  }

  /** Until every node is Ready (repo kubeconfig; tests and callers after `up`). */
  async waitReady(timeoutMs: number): Promise<NodeInfo[]> {
    return waitFor(
      'the node Ready',
      async (ctl) => {
        const nodes = await this.kubectl().nodes();
        if (nodes.length && nodes.every((n) => n.ready)) return nodes;
        ctl.seen(nodes.map((n) => `${n.name}: ${n.ready ? 'Ready' : 'NotReady'}`).join(', ') || 'no node');
        return undefined;
      },
      { timeoutMs, intervalMs: 1000, hint: `see ${this.log('kubelet')} and ${this.log('containerd')}` },
    );
  }

  private async teardown(progress: Progress, sandboxImage?: string, keepVolumes = false): Promise<void> {
    const list = await readFile(join(this.cache.root, 'images-list.txt'), 'utf8').catch(() => '');
    const pause = sandboxImage ?? (list ? parseImagesList(list).pause : 'registry.k8s.io/pause:3.10.1');
    await teardown({
      binDir: this.cache.bin,
      containerd: this.containerdInput(pause),
      files: [this.kubeconfigPath],
      log: this.log('containerd'),
      progress,
      keepVolumes,
    });
  }

  async delete(options: CreateOptions = {}): Promise<void> {
    const progress = options.progress ?? new ConsoleProgress();
    if (process.getuid?.() !== 0) throw new StackportError('the kubeadm provider needs root', { hint: 'run as root (sudo)' });
    await withHostLock(() => this.teardown(progress));
  }

  async status(): Promise<ClusterStatus> {
    const processes = {
      containerd: await containerdRunning(this.bin('containerd')),
      'kubelet-supervisor': await supervisorPid(),
      kubelet: await kubeletPid(this.bin('kubelet')),
      'entry-forward': await livePid('entry-forward', 'socat'),
    };
    const problems: string[] = [];
    const anyProcess = Object.values(processes).some(Boolean);
    const state = await readRecord();
    let nodes: NodeInfo[] = [];
    if (state || anyProcess) {
      try {
        nodes = await new Kubectl(this.bin('kubectl'), ADMIN_CONF).nodes();
      } catch (e) {
        problems.push(`API server: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    for (const [k, v] of Object.entries(processes)) if (state && !v) problems.push(`${k} is not running`);
    for (const n of nodes) if (!n.ready) problems.push(`node ${n.name} is NotReady`);
    if (state && !anyProcess && (await nodeIp().then((ip) => hostState(ip, this.version)).catch(() => undefined))?.kind === 'intact') {
      problems.push('the cluster is stopped (a reboot?) with its state intact: `make cluster-up` starts it again and keeps its objects and volumes');
    }
    const absent = !state && !anyProcess && (await leftovers()).length === 0;
    return {
      provider: 'kubeadm',
      state: absent ? 'absent' : nodes.length && problems.length === 0 ? 'running' : 'degraded',
      kubernetesVersion: state?.kubernetesVersion,
      nodes,
      processes,
      kubeconfig: state ? this.kubeconfigPath : undefined,
      entry: state ? ENTRY_URL : undefined,
      problems,
    };
  }

  async nodes(): Promise<NodeInfo[]> {
    return this.kubectl().nodes();
  }

  async loadArchives(archives: string[]): Promise<void> {
    for (const a of archives) await importArchive(this.bin('ctr'), a);
  }

  /** `docker save` from the Docker engine, then `ctr -n k8s.io images import` (pinned). */
  async hasImage(image: string): Promise<boolean> {
    if (!(await containerdRunning(this.bin('containerd')))) return false;
    return (await listImages(this.bin('ctr'))).has(qualified(image));
  }

  /**
   * Streams `docker save` into containerd (no temporary archive), and skips an image the node
   * already has with the same content: each import is labelled with the engine's image ID.
   */
  async loadImages(images: string[], options: CreateOptions = {}): Promise<string[]> {
    if (images.length === 0) return [];
    const progress = options.progress ?? new ConsoleProgress();
    const docker = await which('docker');
    if (!docker) throw new StackportError('docker CLI not found', { hint: 'the images to load come from the Docker engine' });
    const ctr = this.bin('ctr');
    // one listing of the node's images with their labels: `<ref> <type> <digest> ... <labels>`
    const listed = (await probe(ctrArgv(ctr, 'images', 'ls'))).stdout.split('\n');
    const todo: { img: string; id: string }[] = [];
    for (const img of images) {
      const id = await imageId(img);
      if (!id) throw new StackportError(`image ${img} is not in the Docker engine`, { hint: 'build it first (make up or make build)' });
      const ref = qualified(img);
      if (listed.some((l) => l.startsWith(`${ref} `) && l.includes(`${IMAGE_ID_LABEL}=${id}`))) continue;
      // the same image under another name (a drop-in under the file's name, e.g. postgres:16): a tag, not a second import
      const same = listed.find((l) => l.includes(`${IMAGE_ID_LABEL}=${id}`))?.split(/\s+/)[0];
      if (!same) todo.push({ img, id });
      else {
        await run(ctrArgv(ctr, 'images', 'tag', '--force', same, ref), { what: `ctr images tag ${same} ${ref}` });
        await run(ctrArgv(ctr, 'images', 'label', ref, 'io.cri-containerd.pinned=pinned', `${IMAGE_ID_LABEL}=${id}`), { what: `ctr images label ${ref}` });
        progress.info(`${img}: the cluster has it as ${same} (same image id): tagged, not imported`);
      }
    }
    if (todo.length === 0) return [];
    await progress.step(`load ${todo.length} image(s) into the cluster`, async (update) => {
      for (const { img, id } of todo) {
        update(img);
        await pipe([docker, 'save', img], ctrArgv(ctr, 'images', 'import', '--label', 'io.cri-containerd.pinned=pinned', '--label', `${IMAGE_ID_LABEL}=${id}`, '--platform', 'linux/amd64', '-'), {
          what: `docker save ${img} | ctr images import -`,
          timeoutMs: 10 * 60_000,
        });
      }
    });
    return todo.map((t) => t.img);
  }

}

