import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { probe, run } from '../exec/run.js';
import { StackportError } from '../errors.js';
import { ensureEngine } from '../engine/engine.js';
import { ensurePrivilegedRuntime } from '../engine/runtime-wrapper.js';
import { ConsoleProgress, type Progress } from '../ui/progress.js';
import { CacheLayout } from './cache.js';
import { qualified } from './containerd.js';
import { KindCache, KIND_VERSION, buildKindCli } from './kind-cli.js';
import { ensureNodeImage, kindModuleDir, nodeImageName } from './kind-node-image.js';
import { ensureHostPackages } from './host-packages.js';
import { KubeadmProvider } from './kubeadm.js';
import { Kubectl } from './kubectl.js';
import { deployMetricsServer } from './metrics-server.js';
import { withHostLock } from './lock.js';
import { ENTRY_HOST_PORT, type ClusterProvider, type ClusterStatus, type CreateOptions, type NodeInfo, type ProviderContext } from './provider.js';
import { KUBERNETES_VERSION } from './versions.js';

/**
 * kind: Kubernetes in Docker containers, one container per node. The kind CLI is built from its
 * module (kind-cli.ts), the node image is assembled locally from the kubeadm provider's builds
 * (kind-node-image.ts), and on hosts whose capability bounding set is short the Docker engine
 * gets a runc wrapper first (src/engine/runtime-wrapper.ts). State lives where kind keeps it:
 * in the containers' labels (`io.x-k8s.kind.cluster=stackport`) and the kind network.
 */
export const KIND_CLUSTER_NAME = process.env.STACKPORT_KIND_NAME ?? 'stackport';
export const KIND_ENTRY_URL = `http://127.0.0.1:${ENTRY_HOST_PORT}`;

export interface KindOptions {
  /** 1 (kind/cluster.yaml) or 3 (kind/multi-node.yaml) */
  nodes?: number;
  /** a kind config file; wins over nodes */
  config?: string;
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

  private kind(args: string[], progressWhat?: string): Promise<import('../errors.js').CommandResult> {
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
    const { images } = await new KubeadmProvider(this.ctx).build(progress);
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
    await withHostLock(() => this.createLocked(options));
  }

  private async createLocked(options: CreateOptions): Promise<void> {
    const progress = options.progress ?? new ConsoleProgress();
    await ensureEngine({ logDir: this.logDir, progress });
    await ensurePrivilegedRuntime(progress);
    const image = await this.build(progress);
    const cfg = await this.readConfig();
    const wantNodes = cfg.nodes;
    const existing = await this.containers();
    if (existing.length) {
      const s = await this.status();
      // a running cluster is kept when it has the asked-for size, or when no size was asked for
      // (the migration's detect() does not know how many nodes `up --nodes 3` made)
      const explicit = this.options.nodes !== undefined || this.options.config !== undefined;
      if (s.state === 'running' && (s.nodes.length === wantNodes || !explicit)) {
        await this.writeKubeconfig();
        return;
      }
      await progress.step(`kind: delete unhealthy cluster ${KIND_CLUSTER_NAME}`, () => this.kind(['delete', 'cluster', '--name', KIND_CLUSTER_NAME]));
    }
    for (const port of cfg.hostPorts) await assertPortFree(port);
    await mkdir(join(this.ctx.root, '.stackport'), { recursive: true });
    await progress.step(`kind: create cluster (${wantNodes} node${wantNodes > 1 ? 's' : ''})`, () =>
      this.kind(['create', 'cluster', '--name', KIND_CLUSTER_NAME, '--image', image, '--config', this.configFile(), '--kubeconfig', this.kubeconfigPath, '--retain=false']),
    );
    await progress.step('kind: wait for nodes Ready and system pods', () => this.waitReady(wantNodes));
    // Resource metrics for `kubectl top` and autoscalers, as on kubeadm. The host is not a node
    // here, so the check that the Service answers from the host does not apply.
    await deployMetricsServer(this.kubectl(), (archive) => this.loadArchives([archive]), {
      progress,
      cache: this.kubeadmCache,
      hasImage: (i) => this.hasImage(i),
      checkFromHost: false,
      waitMs: 0,
    });
  }

  /** Node count and the host ports the config publishes (checked free before creating). */
  async readConfig(): Promise<{ nodes: number; hostPorts: number[] }> {
    const { readFile } = await import('node:fs/promises');
    const { parse } = await import('yaml');
    type Cfg = { nodes?: { extraPortMappings?: { hostPort?: number }[] }[] };
    let cfg: Cfg;
    try {
      cfg = (parse(await readFile(this.configFile(), 'utf8')) ?? {}) as Cfg;
    } catch (e) {
      throw new StackportError(`cannot read the kind config ${this.configFile()}`, { cause: e, hint: 'kind/cluster.yaml or kind/multi-node.yaml' });
    }
    const hostPorts = (cfg.nodes ?? []).flatMap((n) => (n.extraPortMappings ?? []).map((m) => m.hostPort ?? 0)).filter((p) => p > 0);
    return { nodes: cfg.nodes?.length ?? 1, hostPorts };
  }

  private async waitReady(nodes: number): Promise<void> {
    const k = this.kubectl();
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const ns = await k.nodes().catch(() => [] as NodeInfo[]);
      if (ns.length === nodes && ns.every((n) => n.ready)) break;
      if (Date.now() > deadline) throw new StackportError(`kind nodes not Ready after 5 min: ${ns.map((n) => `${n.name}=${n.ready}`).join(' ')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const [ns, what] of [['kube-system', 'deployment/coredns'], ['local-path-storage', 'deployment/local-path-provisioner'], ['kube-system', 'daemonset/stackport-net'], ['kube-system', 'daemonset/kube-proxy']] as const) {
      await k.run(['-n', ns, 'rollout', 'status', what, '--timeout=240s'], { timeoutMs: 250_000 });
    }
  }

  private async writeKubeconfig(): Promise<void> {
    await mkdir(join(this.ctx.root, '.stackport'), { recursive: true });
    const r = await this.kind(['get', 'kubeconfig', '--name', KIND_CLUSTER_NAME]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(this.kubeconfigPath, r.stdout, { mode: 0o600 });
  }

  async delete(options: CreateOptions = {}): Promise<void> {
    await withHostLock(async () => {
      const progress = options.progress ?? new ConsoleProgress();
      if (existsSync(this.cache.kind) && (await this.containers()).length) {
        await progress.step(`kind: delete cluster ${KIND_CLUSTER_NAME}`, () => this.kind(['delete', 'cluster', '--name', KIND_CLUSTER_NAME, '--kubeconfig', this.kubeconfigPath]));
      }
      // kind keeps its Docker network; remove it when no container uses it any more (another
      // kind cluster on the host keeps it)
      const net = process.env.KIND_EXPERIMENTAL_DOCKER_NETWORK ?? 'kind';
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

  /** `kind load docker-image`: docker save once, ctr import on every node. */
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

async function containerPid(name: string): Promise<number | undefined> {
  const r = await probe(['docker', 'inspect', '--format', '{{.State.Pid}}', name]);
  const pid = Number(r.stdout.trim());
  return r.exitCode === 0 && pid > 0 ? pid : undefined;
}

/** kind publishes the entry on 127.0.0.1:8090; fail before creating nodes if someone holds it. */
export async function assertPortFree(port: number): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  if (!free) {
    throw new StackportError(`127.0.0.1:${port} is taken, and the kind cluster publishes its app entry there`, {
      hint: 'if the kubeadm cluster runs, stop the kubeadm cluster first: make cluster-down (npx zx scripts/cluster.mjs down --provider kubeadm)',
      exitCode: 2,
    });
  }
}
