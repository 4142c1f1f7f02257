import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { isAbsolute, join } from 'node:path';
import { hostCmder, runActions, type Action, type ActionContext } from '../../exec/actions.js';
import { probe, run } from '../../exec/run.js';
import { waitFor } from '../../exec/wait.js';
import { StackportError } from '../../errors.js';
import { engineVersion, ensureEngine } from '../../engine/engine.js';
import { ensurePrivilegedRuntime } from '../../engine/runtime-wrapper.js';
import { ConsoleProgress, type Progress } from '../../ui/progress.js';
import { CacheLayout } from '../build/cache.js';
import { qualified } from '../host/containerd.js';
import { KindCache, KIND_VERSION, buildKindCli } from '../build/kind-cli.js';
import { ensureNodeImage, kindModuleDir, nodeImageName } from '../build/kind-node-image.js';
import { ensureHostPackages } from '../host/packages.js';
import { buildCluster } from '../build/cluster-build.js';
import { Kubectl } from '../kubectl.js';
import { deployPolicyEngine, policyEngineRunning } from '../addons/policy-engine.js';
import { deployMetricsServer, metricsServerDeployed } from '../addons/metrics-server.js';
import { withHostLock } from '../host/lock.js';
import { ENTRY_URL } from '../host/entry.js';
import { portFree } from '../../stack/ports.js';
import { ENTRY_HOST_PORT, type ClusterProvider, type ClusterStatus, type CreateOptions, type NodeInfo, type ProviderContext } from './provider.js';
import { KUBERNETES_VERSION } from '../build/versions.js';
import { unwireKind, withRegistryPatch } from '../addons/registry.js';
import { BARE_NAMES_MARK, withBareNamesKept } from '../build/coredns.js';

/**
 * kind: Kubernetes in Docker containers, one container per node. The kind CLI is built from its
 * module (kind-cli.ts), the node image is assembled locally from the kubeadm provider's builds
 * (kind-node-image.ts), and on hosts whose capability bounding set is short the Docker engine
 * gets a runc wrapper first (src/engine/runtime-wrapper.ts). State lives where kind keeps it:
 * in the containers' labels (`io.x-k8s.kind.cluster=stackport`) and the kind network.
 */
export const KIND_CLUSTER_NAME = process.env.STACKPORT_KIND_NAME ?? 'stackport';
export const KIND_ENTRY_URL = ENTRY_URL;

export interface KindOptions {
  /** 1 (kind/cluster.yaml) or 3 (kind/multi-node.yaml) */
  nodes?: number;
  /** a kind config file; wins over nodes */
  config?: string;
}

export interface KindCreateContext extends ActionContext {
  image?: string;
  config?: { nodes: number; hostPorts: number[] };
}

export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const;
  readonly version = KUBERNETES_VERSION;
  readonly cache = new KindCache(KIND_VERSION);
  readonly kubeadmCache = new CacheLayout(KUBERNETES_VERSION);
  private readonly kubeconfigPath: string;
  private readonly logDir: string;

  constructor(
    private readonly ctx: ProviderContext,
    private readonly options: KindOptions = {},
  ) {
    this.kubeconfigPath = join(ctx.root, '.stackport', 'kind-kubeconfig');
    this.logDir = join(ctx.root, '.stackport', 'logs');
  }

  entry(): string {
    return KIND_ENTRY_URL;
  }

  configFile(): string {
    if (this.options.config) return isAbsolute(this.options.config) ? this.options.config : join(this.ctx.root, this.options.config);
    return join(this.ctx.root, 'kind', (this.options.nodes ?? 1) > 1 ? 'multi-node.yaml' : 'cluster.yaml');
  }

  private kubectl(): Kubectl {
    return new Kubectl(this.kubeadmCache.binary('kubectl'), this.kubeconfigPath);
  }

  private kind(args: string[], progressWhat?: string): Promise<import('../../errors.js').CommandResult> {
    return run([this.cache.kind, ...args], { what: progressWhat ?? `kind ${args.join(' ')}`, timeoutMs: 15 * 60_000 });
  }

  /** The node image name: STACKPORT_KIND_NODE_IMAGE (e.g. an official kindest/node) or ours. */
  nodeImage(): string {
    return process.env.STACKPORT_KIND_NODE_IMAGE ?? nodeImageName(this.version);
  }

  /** kind CLI, the kubeadm provider's components and images, then the node image (all cached). */
  async build(progress: Progress): Promise<string> {
    await buildKindCli(this.cache, progress);
    if (process.env.STACKPORT_KIND_NODE_IMAGE) return this.nodeImage();
    // debootstrap and busybox-static (node image base, busybox image) come with kubeadm's host packages
    if (process.getuid?.() === 0) await ensureHostPackages(progress);
    const { images } = await buildCluster(progress, this.version);
    return ensureNodeImage(
      {
        k8sVersion: this.version,
        kindVersion: KIND_VERSION,
        kubeadmCache: this.kubeadmCache,
        images,
        kindCache: this.cache,
        kindModuleDir: await kindModuleDir(KIND_VERSION, join(this.cache.srcDir, 'kind')),
      },
      progress,
    );
  }

  /** Node containers of our cluster, by name (kind's label). */
  async containers(all = true): Promise<string[]> {
    const r = await probe(['docker', 'ps', ...(all ? ['-a'] : []), '--filter', `label=io.x-k8s.kind.cluster=${KIND_CLUSTER_NAME}`, '--format', '{{.Names}}']);
    return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean).sort() : [];
  }

  async create(options: CreateOptions = {}): Promise<void> {
    const progress = options.progress ?? new ConsoleProgress();
    await withHostLock(() =>
      runActions(this.createActions(), { cmd: hostCmder, progress } as KindCreateContext, {
        what: 'cluster up (kind)',
        hint: 'a re-run resumes at the failed action',
      }),
    );
  }

  /**
   * `up` as actions (src/exec/actions.ts), like the kubeadm provider's: every action checks the
   * real thing, so a failure in a later action (system pods, metrics-server) is finished by a
   * re-run instead of being hidden by an early "already running" return; stopped node
   * containers (a dockerd restart) are started again, not recreated.
   */
  createActions(): Action<KindCreateContext>[] {
    const explicit = this.options.nodes !== undefined || this.options.config !== undefined;
    // a running cluster is kept when it has the asked-for size, or when no size was asked for
    // (the migration's detect() does not know how many nodes `up --nodes 3` made)
    const sizeOk = async (c: KindCreateContext, n: number) => !explicit || n === (c.config ??= await this.readConfig()).nodes;
    return [
      { name: 'engine', ownProgress: true, run: (c) => ensureEngine({ logDir: this.logDir, progress: c.progress }).then(() => undefined) },
      { name: 'privileged-runtime', ownProgress: true, run: (c) => ensurePrivilegedRuntime(c.progress).then(() => undefined) },
      {
        name: 'build',
        ownProgress: true,
        run: async (c) => {
          c.image = await this.build(c.progress);
        },
      },
      {
        name: 'start-nodes',
        title: 'kind: start stopped node containers',
        // nothing to start: no cluster, all nodes running, or the wrong size (create-cluster replaces it)
        done: async (c) => {
          const all = await this.containers();
          const up = await this.containers(false);
          return all.length === 0 || all.every((n) => up.includes(n)) || !(await sizeOk(c, all.length));
        },
        run: async (c) => {
          const up = await this.containers(false);
          const stopped = (await this.containers()).filter((n) => !up.includes(n));
          await c.cmd.run(['docker', 'start', ...stopped], { what: `docker start ${stopped.join(' ')}`, timeoutMs: 120_000 });
        },
      },
      {
        name: 'create-cluster',
        title: 'kind: create cluster',
        done: async (c) => {
          const nodes = await this.containers();
          return nodes.length > 0 && nodes.length === (await this.containers(false)).length && (await sizeOk(c, nodes.length));
        },
        run: async (c) => {
          const cfg = (c.config ??= await this.readConfig());
          if ((await this.containers()).length) await c.cmd.run([this.cache.kind, 'delete', 'cluster', '--name', KIND_CLUSTER_NAME], { what: `kind: delete cluster ${KIND_CLUSTER_NAME} (wrong size or not all nodes start)`, timeoutMs: 15 * 60_000 });
          for (const port of cfg.hostPorts) await assertPortFree(port);
          await mkdir(join(this.ctx.root, '.stackport'), { recursive: true });
          // the nodes' containerd reads registry hosts from certs.d (the local registry, src/cluster/addons/registry.ts)
          const config = join(this.ctx.root, '.stackport', 'kind-config.yaml');
          await writeFile(config, withRegistryPatch(await readFile(this.configFile(), 'utf8')));
          await c.cmd.run([this.cache.kind, 'create', 'cluster', '--name', KIND_CLUSTER_NAME, '--image', c.image!, '--config', config, '--kubeconfig', this.kubeconfigPath, '--retain=false'], { what: `kind create cluster (${cfg.nodes} node${cfg.nodes > 1 ? 's' : ''})`, timeoutMs: 15 * 60_000 });
        },
      },
      { name: 'kubeconfig', title: 'kind: kubeconfig', run: () => this.writeKubeconfig() },
      { name: 'nodes-ready', title: 'kind: nodes Ready and system pods', run: async () => this.waitReady((await this.containers()).length) },
      {
        name: 'coredns-bare-names',
        title: 'CoreDNS: single-label names answered NXDOMAIN, not forwarded',
        done: async () => (await this.corefile()).includes(BARE_NAMES_MARK),
        run: async () => {
          const corefile = withBareNamesKept(await this.corefile());
          await this.kubectl().run(['-n', 'kube-system', 'patch', 'configmap', 'coredns', '--type=merge', '-p', JSON.stringify({ data: { Corefile: corefile } })]);
        },
      },
      {
        name: 'policy-engine',
        title: 'NetworkPolicy engine (kube-router)',
        done: () => policyEngineRunning(this.kubectl()),
        // kind's default Service range is 10.96.0.0/16
        run: (c) =>
          deployPolicyEngine(this.kubectl(), (archive) => this.loadArchives([archive]), { progress: c.progress, cache: this.kubeadmCache, hasImage: (i) => this.hasImage(i), serviceSubnet: '10.96.0.0/16' }),
      },
      {
        name: 'metrics-server',
        title: 'metrics-server (rolled out before its APIService)',
        done: () => metricsServerDeployed(this.kubectl()),
        // The host is not a node here, so the check that the Service answers from the host does not apply.
        run: () =>
          deployMetricsServer(this.kubectl(), (archive) => this.loadArchives([archive]), {
            cache: this.kubeadmCache,
            hasImage: (i) => this.hasImage(i),
            checkFromHost: false,
            // The host cannot check the ClusterIP here, so the rollout stands in for "kube-proxy has its
            // rule": an APIService created earlier sends the API server's first connection to this
            // host's TLS interceptor, and metrics never become available (seen in CI, 180 s).
            waitForRollout: true,
            waitMs: 0,
          }),
      },
    ];
  }

  /** Node count and the host ports the config publishes (checked free before creating). */
  async readConfig(): Promise<{ nodes: number; hostPorts: number[] }> {
    // static imports: in the compiled scripts' bundle a dynamic import('yaml') has no named `parse`
    type Cfg = { nodes?: { extraPortMappings?: { hostPort?: number }[] }[] };
    let cfg: Cfg;
    try {
      cfg = (parseYaml(await readFile(this.configFile(), 'utf8')) ?? {}) as Cfg;
    } catch (e) {
      throw new StackportError(`cannot read the kind config ${this.configFile()}`, { cause: e, hint: 'kind/cluster.yaml or kind/multi-node.yaml' });
    }
    const hostPorts = (cfg.nodes ?? []).flatMap((n) => (n.extraPortMappings ?? []).map((m) => m.hostPort ?? 0)).filter((p) => p > 0);
    return { nodes: cfg.nodes?.length ?? 1, hostPorts };
  }

  /**
   * Every node Ready, and its kubelet alive since its container (re)started: after a dockerd
   * restart the API server comes back with the nodes' old "Ready" from etcd, so Ready alone says
   * nothing until the node controller notices; a node Lease renewed after the container started
   * does (the kubelet renews it every 10 s).
   */
  private async waitReady(nodes: number): Promise<void> {
    const k = this.kubectl();
    const started = await containerStarts(await this.containers(false));
    await waitFor(
      `${nodes} kind node(s) Ready, each kubelet renewing its Lease since its container started`,
      async (ctl) => {
        const ns = await k.nodes();
        const leases = await k.json<{ items: { metadata: { name: string }; spec: { renewTime?: string } }[] }>(['-n', 'kube-node-lease', 'get', 'leases']);
        const renewed = new Map(leases.items.map((l) => [l.metadata.name, Date.parse(l.spec.renewTime ?? '') || 0]));
        const fresh = (name: string) => (renewed.get(name) ?? 0) >= (started.get(name) ?? 0);
        ctl.seen(ns.map((n) => `${n.name}=${n.ready ? 'Ready' : 'NotReady'}${fresh(n.name) ? '' : ' (lease not renewed since start)'}`).join(' ') || 'no node');
        return ns.length === nodes && ns.every((n) => n.ready && fresh(n.name));
      },
      { timeoutMs: 5 * 60_000, intervalMs: 1000 },
    );
    await this.waitServiceRules(k);
    for (const [ns, what] of [['kube-system', 'deployment/coredns'], ['local-path-storage', 'deployment/local-path-provisioner'], ['kube-system', 'daemonset/stackport-net'], ['kube-system', 'daemonset/kube-proxy']] as const) {
      await k.run(['-n', ns, 'rollout', 'status', what, '--timeout=240s'], { timeoutMs: 250_000 });
    }
  }

  /**
   * Every Service's ClusterIP has a rule (DNAT, or REJECT while it has no endpoints) in every node.
   * After a dockerd restart each node container has a new network namespace, and its kube-proxy
   * (a pod, restarted with back-off while the API server comes back) writes the rules again only
   * later: until then a pod's connection to a ClusterIP leaves by the default route, and on this
   * host the TLS interceptor answers it (`403 resolve_deny`; seen in CI with every app pod Ready).
   * The DaemonSet's status is the stale one from etcd, so it is asked of the nodes themselves.
   */
  private async waitServiceRules(k: Kubectl): Promise<void> {
    const nodes = await this.containers(false);
    await waitFor(
      `kube-proxy's rules for every Service on ${nodes.length} node(s)`,
      async (ctl) => {
        const services = await k.json<{ items: { spec: { clusterIP?: string } }[] }>(['get', 'services', '-A']);
        const ips = services.items.map((s) => s.spec.clusterIP ?? '').filter((ip) => ip && ip !== 'None');
        const missing: string[] = [];
        for (const node of nodes) {
          const r = await probe(['docker', 'exec', node, 'iptables-save']);
          const left = ips.filter((ip) => !r.stdout.includes(`-d ${ip}/32`));
          if (r.exitCode !== 0 || left.length) missing.push(`${node}: ${r.exitCode !== 0 ? r.stderr.trim().slice(0, 80) : `${left.length} of ${ips.length} not yet (${left.slice(0, 3).join(', ')})`}`);
        }
        ctl.seen(missing.join('; '));
        return ips.length > 0 && missing.length === 0;
      },
      { timeoutMs: 5 * 60_000, intervalMs: 1000 },
    );
  }

  /**
   * What the app's traffic needs on every node after a restart, asked of the nodes themselves:
   * each node routes every other node's pod range via that node's current address on kind's
   * network, the namespace's EndpointSlices name only addresses of pods that exist now, and every
   * node's kube-proxy sends to each ready endpoint. Until then a connection can leave a node by
   * its default route and meet this host's interceptor (CI: `403 resolve_deny` from web -> api
   * right after every app pod was Ready again after a dockerd restart).
   */
  async waitTraffic(namespace: string, timeoutMs = 180_000): Promise<void> {
    const k = this.kubectl();
    const containers = await this.containers(false);
    type NodeJson = { metadata: { name: string }; spec: { podCIDR?: string }; status: { addresses?: { type: string; address: string }[] } };
    type Slice = { metadata: { labels?: Record<string, string> }; endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[]; ports?: { port?: number }[] };
    await waitFor(
      `the app's traffic programmed on ${containers.length} node(s) (routes, endpoints, kube-proxy rules)`,
      async (ctl) => {
        const problems: string[] = [];
        const nodes = (await k.json<{ items: NodeJson[] }>(['get', 'nodes'])).items;
        const address = new Map<string, string>();
        for (const c of containers) address.set(c, (await run(['docker', 'inspect', '--format', `{{(index .NetworkSettings.Networks "${process.env.KIND_EXPERIMENTAL_DOCKER_NETWORK ?? 'kind'}").IPAddress}}`, c])).stdout.trim());
        for (const n of nodes) {
          const said = n.status.addresses?.find((a) => a.type === 'InternalIP')?.address;
          if (address.has(n.metadata.name) && said !== address.get(n.metadata.name)) problems.push(`node ${n.metadata.name}: the API says ${said}, its container has ${address.get(n.metadata.name)}`);
        }
        const pods = await k.json<{ items: { metadata: { name: string }; status: { podIP?: string } }[] }>(['get', 'pods', '-n', namespace]);
        const podIp = new Map(pods.items.map((p) => [p.metadata.name, p.status.podIP]));
        // headless Services (a StatefulSet's) get no kube-proxy rule: their clients dial pod addresses
        const services = await k.json<{ items: { metadata: { name: string }; spec: { clusterIP?: string } }[] }>(['get', 'services', '-n', namespace]);
        const proxied = new Set(services.items.filter((x) => x.spec.clusterIP && x.spec.clusterIP !== 'None').map((x) => x.metadata.name));
        const slices = (await k.json<{ items: Slice[] }>(['get', 'endpointslices', '-n', namespace])).items.filter((x) => proxied.has(x.metadata.labels?.['kubernetes.io/service-name'] ?? ''));
        const targets: string[] = [];
        for (const sl of slices) {
          for (const e of sl.endpoints ?? []) {
            if (e.conditions?.ready === false) continue;
            for (const a of e.addresses) {
              // a pod's endpoint must be that pod's address now (the API server's own endpoint is no pod)
              const pod = e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined;
              if (pod && podIp.get(pod) !== a) problems.push(`an EndpointSlice names ${a} for pod ${pod}, which has ${podIp.get(pod) ?? 'no address'} now`);
              for (const p of sl.ports ?? []) if (p.port) targets.push(`${a}:${p.port}`);
            }
          }
        }
        for (const c of containers) {
          const routes = (await probe(['docker', 'exec', c, 'ip', 'route'])).stdout;
          for (const n of nodes) {
            const via = address.get(n.metadata.name);
            if (n.metadata.name === c || !n.spec.podCIDR || !via) continue;
            if (!routes.includes(`${n.spec.podCIDR} via ${via} `)) problems.push(`${c}: no route to ${n.spec.podCIDR} via ${via}`);
          }
          const rules = (await probe(['docker', 'exec', c, 'iptables-save', '-t', 'nat'])).stdout;
          const left = targets.filter((t) => !rules.includes(`--to-destination ${t}`));
          if (left.length) problems.push(`${c}: kube-proxy has no rule to ${left.slice(0, 4).join(', ')}${left.length > 4 ? ` and ${left.length - 4} more` : ''}`);
        }
        ctl.seen(problems.join('; '));
        return problems.length === 0;
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  private async corefile(): Promise<string> {
    return (await this.kubectl().run(['-n', 'kube-system', 'get', 'configmap', 'coredns', '-o', 'jsonpath={.data.Corefile}'])).stdout;
  }

  private async writeKubeconfig(): Promise<void> {
    await mkdir(join(this.ctx.root, '.stackport'), { recursive: true });
    const r = await this.kind(['get', 'kubeconfig', '--name', KIND_CLUSTER_NAME]);
    await writeFile(this.kubeconfigPath, r.stdout, { mode: 0o600 });
  }

  async delete(options: CreateOptions = {}): Promise<void> {
    await withHostLock(async () => {
      const progress = options.progress ?? new ConsoleProgress();
      // after a reboot dockerd may not run yet, and its start would bring the nodes back
      // (restart policy on-failure:1): start it, so that the nodes are seen and deleted
      if (!(await engineVersion()) && (await probe(['dockerd', '--version'])).exitCode === 0) await ensureEngine({ logDir: this.logDir, progress, allowInstall: false });
      if (existsSync(this.cache.kind) && (await this.containers()).length) {
        await progress.step(`kind: delete cluster ${KIND_CLUSTER_NAME}`, () => this.kind(['delete', 'cluster', '--name', KIND_CLUSTER_NAME, '--kubeconfig', this.kubeconfigPath]));
      }
      // kind keeps its Docker network; remove it when no container uses it any more (another
      // kind cluster on the host keeps it)
      const net = process.env.KIND_EXPERIMENTAL_DOCKER_NETWORK ?? 'kind';
      // the local registry joined the network for the nodes (wireKind); it stays up, off the network
      await unwireKind(net);
      const used = await probe(['docker', 'network', 'inspect', '--format', '{{len .Containers}}', net]);
      if (used.exitCode === 0 && used.stdout.trim() === '0') await probe(['docker', 'network', 'rm', net]);
      await rm(this.kubeconfigPath, { force: true });
    });
  }

  async status(): Promise<ClusterStatus> {
    const containers = await this.containers();
    const running = await this.containers(false);
    const base: ClusterStatus = { provider: 'kind', state: 'absent', nodes: [], processes: {}, problems: [], entry: KIND_ENTRY_URL };
    if (!containers.length) return base;
    for (const c of containers) base.processes[c] = running.includes(c) ? await containerPid(c) : undefined;
    if (!existsSync(this.kubeconfigPath) && existsSync(this.cache.kind)) await this.writeKubeconfig().catch(() => undefined);
    const nodes = await this.kubectl().nodes().catch((e: unknown) => {
      base.problems.push(`API server does not answer: ${(e as Error).message.split('\n')[0]}`);
      return [] as NodeInfo[];
    });
    for (const c of containers) if (!running.includes(c)) base.problems.push(`node container ${c} is not running`);
    for (const n of nodes) if (!n.ready) base.problems.push(`node ${n.name} is not Ready`);
    return {
      ...base,
      state: nodes.length > 0 && base.problems.length === 0 ? 'running' : 'degraded',
      nodes,
      kubernetesVersion: nodes[0]?.kubeletVersion,
      kubeconfig: this.kubeconfigPath,
    };
  }

  async kubeconfig(): Promise<string> {
    if (!existsSync(this.kubeconfigPath)) {
      if (!(await this.containers()).length) throw new StackportError('no kind cluster: the kubeconfig does not exist', { hint: 'run `npx zx scripts/cluster.mjs up --provider kind` first' });
      await this.writeKubeconfig();
    }
    return this.kubeconfigPath;
  }

  async nodes(): Promise<NodeInfo[]> {
    return this.kubectl().nodes();
  }

  /** `kind load docker-image` compares image IDs itself; its output says which it loaded. */
  async loadImages(images: string[], options: CreateOptions = {}): Promise<string[]> {
    if (!images.length) return [];
    const progress = options.progress ?? new ConsoleProgress();
    const r = await progress.step(`kind: load ${images.join(', ')}`, () => this.kind(['load', 'docker-image', '--name', KIND_CLUSTER_NAME, ...images]));
    return loadedByKind(`${r.stdout}\n${r.stderr}`, images);
  }

  async hasImage(image: string): Promise<boolean> {
    const nodes = await this.containers(false);
    if (!nodes.length) return false;
    const want = qualified(image);
    for (const n of nodes) {
      const r = await probe(['docker', 'exec', n, 'ctr', '--namespace=k8s.io', 'images', 'ls', '-q', `name==${want}`]);
      if (r.exitCode !== 0 || !r.stdout.split('\n').includes(want)) return false;
    }
    return true;
  }

  async loadArchives(archives: string[]): Promise<void> {
    for (const a of archives) await this.kind(['load', 'image-archive', '--name', KIND_CLUSTER_NAME, a]);
  }
}

/** The images kind's output says it loaded (`Image: "x" with ID "…" not yet present on node …`). */
export function loadedByKind(output: string, images: string[]): string[] {
  const named = [...output.matchAll(/^Image: "([^"]+)" with ID "[^"]*" not yet present/gm)].map((m) => m[1]!);
  return images.filter((i) => named.some((n) => n === i || n.endsWith(`/${i}`)));
}

/** When each node container last started (docker's State.StartedAt), by container name = node name. */
async function containerStarts(names: string[]): Promise<Map<string, number>> {
  if (!names.length) return new Map();
  const r = await run(['docker', 'inspect', '--format', '{{.Name}} {{.State.StartedAt}}', ...names], { what: 'docker inspect (node start times)' });
  return new Map(r.stdout.split('\n').filter(Boolean).map((l) => {
    const [name = '', at = ''] = l.trim().split(' ');
    return [name.replace(/^\//, ''), Date.parse(at) || 0] as [string, number];
  }));
}

async function containerPid(name: string): Promise<number | undefined> {
  const r = await probe(['docker', 'inspect', '--format', '{{.State.Pid}}', name]);
  const pid = Number(r.stdout.trim());
  return r.exitCode === 0 && pid > 0 ? pid : undefined;
}

/** kind publishes the entry on 127.0.0.1:8090; fail before creating nodes if someone holds it. */
export async function assertPortFree(port: number): Promise<void> {
  if (!(await portFree('127.0.0.1', port))) {
    throw new StackportError(`127.0.0.1:${port} is taken, and the kind cluster publishes its app entry there`, {
      hint: 'if the kubeadm cluster runs, stop the kubeadm cluster first: make cluster-down (npx zx scripts/cluster.mjs down --provider kubeadm)',
      exitCode: 2,
    });
  }
}
