import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { probe, run, which } from '../exec/run.js';
import { StackportError } from '../errors.js';
import { imageId } from '../engine/images.js';
import { ConsoleProgress, type Progress } from '../ui/progress.js';
import { CacheLayout, HOST } from './cache.js';
import { teardown, leftovers } from './cleanup.js';
import { cniComponent, containerdComponent, kubernetesComponent, localPathComponent } from './components.js';
import { corednsComponent } from './coredns.js';
import { containerdRunning, ctrArgv, importArchive, listImages, qualified, startContainerd, type ContainerdConfigInput } from './containerd.js';
import { pipe } from '../exec/pipe.js';

/** containerd label holding the Docker engine's image ID an image was loaded from. */
const IMAGE_ID_LABEL = 'stackport.docker-image-id';
import { writeCniConfig } from './cni.js';
import { livePid } from './daemon.js';
import { ENTRY_URL, startEntry } from './entry.js';
import { etcdComponent, etcdModuleVersion } from './etcd.js';
import { buildGoComponent } from './go-build.js';
import { enableForwarding, ensureForwardAccept, nodeIp } from './host-network.js';
import { ensureHostPackages } from './host-packages.js';
import { buildImages, parseImagesList, tagOf, type ImageSet, type KubeadmImages } from './images.js';
import { kubeadmConfig } from './kubeadm-config.js';
import { kubeletPid, startKubeletSupervisor, supervisorPid } from './kubelet-supervisor.js';
import { Kubectl } from './kubectl.js';
import { localPathManifests } from './local-path.js';
import { deployMetricsServer } from './metrics-server.js';
import { withHostLock } from './lock.js';
import type { ClusterProvider, ClusterStatus, CreateOptions, NodeInfo, ProviderContext } from './provider.js';
import { CNI_PLUGINS_VERSION, CONTAINERD_VERSION, KUBERNETES_VERSION, LOCAL_PATH_VERSION } from './versions.js';

interface ClusterState {
  kubernetesVersion: string;
  nodeIp: string;
  nodeName: string;
  createdAt: string;
}

interface Built {
  list: KubeadmImages;
  images: ImageSet;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A single-node kubeadm cluster on this host, built from Go modules, with no registry and no
 * systemd. create() is a list of steps (see docs/cluster.md); each is idempotent, and a healthy
 * cluster makes create() a no-op.
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

  async kubeconfig(): Promise<string> {
    if (!(await stat(this.kubeconfigPath).then(() => true, () => false))) {
      if (await stat('/etc/kubernetes/admin.conf').then(() => true, () => false)) await this.copyKubeconfig();
      else throw new StackportError('no cluster: the kubeconfig does not exist', { hint: 'run `make cluster-up` first' });
    }
    return this.kubeconfigPath;
  }

  private async copyKubeconfig(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await copyFile('/etc/kubernetes/admin.conf', this.kubeconfigPath);
  }

  /** Builds (once, cached by version) every binary and image archive the cluster runs. */
  async build(progress: Progress): Promise<Built> {
    const o = { srcDir: join(this.cache.root, 'src'), binDir: this.cache.bin, logDir: this.cache.logs, progress };
    await buildGoComponent(kubernetesComponent(this.version), { ...o, label: 'kubernetes' });
    const listFile = join(this.cache.root, 'images-list.txt');
    let listText = await readFile(listFile, 'utf8').catch(() => '');
    if (!listText) {
      listText = (await run([this.bin('kubeadm'), 'config', 'images', 'list', '--kubernetes-version', this.version], { what: 'kubeadm config images list' })).stdout;
      await writeFile(listFile, listText);
    }
    const list = parseImagesList(listText);
    await buildGoComponent(etcdComponent(etcdModuleVersion(tagOf(list.etcd))), o);
    await buildGoComponent(corednsComponent(tagOf(list.coredns)), o);
    await buildGoComponent(cniComponent(CNI_PLUGINS_VERSION), { ...o, binDir: this.cache.cniBin });
    await buildGoComponent(containerdComponent(CONTAINERD_VERSION), o);
    await buildGoComponent(localPathComponent(LOCAL_PATH_VERSION), o);
    const images = await buildImages(this.cache, list, LOCAL_PATH_VERSION, progress);
    return { list, images };
  }

  async create(options: CreateOptions = {}): Promise<void> {
    if (process.getuid?.() !== 0) throw new StackportError('the kubeadm provider needs root', { hint: 'run as root (sudo)' });
    await withHostLock(() => this.createLocked(options));
  }

  private async createLocked(options: CreateOptions): Promise<void> {
    const progress = options.progress ?? new ConsoleProgress();
    await ensureHostPackages(progress);
    const built = await this.build(progress);
    const ip = await nodeIp();
    if (await this.healthy(ip)) {
      await this.copyKubeconfig();
      await startEntry(ip, this.log('entry-forward'));
      progress.info('cluster already running: nothing to do');
      return;
    }
    const left = await leftovers();
    if (left.length) {
      progress.info(`found state of an earlier cluster (${left.join(', ')}): resetting it first`);
      await this.teardown(progress, built.list.pause);
    }
    await mkdir(this.logDir, { recursive: true });
    await progress.step('host network', async () => {
      await enableForwarding();
      await ensureForwardAccept();
      await writeCniConfig();
    });
    await progress.step('start containerd', () => startContainerd(this.cache.bin, this.containerdInput(built.list.pause), this.log('containerd')));
    await progress.step('import images', async (update) => {
      const present = await listImages(this.bin('ctr'));
      for (const img of built.images.images) {
        if (present.has(img.name)) continue;
        update(img.name);
        await importArchive(this.bin('ctr'), img.archive);
      }
    });
    const nodeName = hostname().toLowerCase().split('.')[0]!;
    await writeFile(HOST.kubeadmConfig, kubeadmConfig({ kubernetesVersion: this.version, nodeName, nodeIp: ip }));
    // stale kubelet files would start the kubelet before kubeadm's preflight (Port-10250)
    await rm('/var/lib/kubelet/config.yaml', { force: true });
    await rm('/var/lib/kubelet/kubeadm-flags.env', { force: true });
    await startKubeletSupervisor(this.bin('kubelet'), this.log('kubelet'));
    await progress.step('kubeadm init', async () => {
      const logFile = this.log('kubeadm-init');
      const { createWriteStream } = await import('node:fs');
      const out = createWriteStream(logFile);
      try {
        await run([this.bin('kubeadm'), 'init', '--config', HOST.kubeadmConfig, '--skip-token-print', '--v=1'], {
          env: this.env(),
          what: 'kubeadm init',
          hint: `see ${logFile} and ${this.log('kubelet')}`,
          timeoutMs: 10 * 60_000,
          onOutput: (c) => void out.write(c),
        });
      } finally {
        await new Promise((r) => out.end(r));
      }
    });
    await this.copyKubeconfig();
    await writeFile(HOST.state, JSON.stringify({ kubernetesVersion: this.version, nodeIp: ip, nodeName, createdAt: new Date().toISOString() } satisfies ClusterState));
    const k = this.kubectl();
    await progress.step('storage class (local-path)', async () => {
      await k.apply(localPathManifests(built.images.localPath, built.images.helper));
      // taints: [] in the InitConfiguration; this keeps an older state consistent
      await probe([k.binary, '--kubeconfig', k.kubeconfig, 'taint', 'nodes', '--all', 'node-role.kubernetes.io/control-plane:NoSchedule-']);
    });
    await deployMetricsServer(k, (archive) => importArchive(this.bin('ctr'), archive), { progress, cache: this.cache, hasImage: (i) => this.hasImage(i), waitMs: 0 });
    await progress.step('node Ready', () => this.waitReady(180_000));
    await progress.step('system pods ready', async () => {
      await k.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=180s'], { timeoutMs: 200_000 });
      await k.run(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=180s'], { timeoutMs: 200_000 });
      await k.run(['-n', 'local-path-storage', 'rollout', 'status', 'deployment/local-path-provisioner', '--timeout=180s'], { timeoutMs: 200_000 });
    });
    await progress.step('app entry 127.0.0.1:8090', () => startEntry(ip, this.log('entry-forward')));
  }

  /** Running, on this address and release, API answering and the node Ready. */
  private async healthy(ip: string): Promise<boolean> {
    const state = await this.state();
    if (!state || state.nodeIp !== ip || state.kubernetesVersion !== this.version) return false;
    if (!(await containerdRunning(this.bin('containerd'))) || !(await supervisorPid())) return false;
    if (!(await stat('/etc/kubernetes/admin.conf').then(() => true, () => false))) return false;
    const k = new Kubectl(this.bin('kubectl'), '/etc/kubernetes/admin.conf');
    const nodes = await k.nodes().catch(() => [] as NodeInfo[]);
    return nodes.length > 0 && nodes.every((n) => n.ready);
  }

  private async state(): Promise<ClusterState | undefined> {
    try {
      return JSON.parse(await readFile(HOST.state, 'utf8')) as ClusterState;
    } catch {
      return undefined;
    }
  }

  async waitReady(timeoutMs: number): Promise<NodeInfo[]> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const nodes = await this.kubectl().nodes();
        if (nodes.length && nodes.every((n) => n.ready)) return nodes;
        last = nodes.map((n) => `${n.name}: ${n.ready ? 'Ready' : 'NotReady'}`).join(', ');
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) {
        throw new StackportError('the node did not become Ready', { details: last, hint: `see ${this.log('kubelet')} and ${this.log('containerd')}` });
      }
      await sleep(1000);
    }
  }

  private async teardown(progress: Progress, sandboxImage?: string): Promise<void> {
    const list = await readFile(join(this.cache.root, 'images-list.txt'), 'utf8').catch(() => '');
    const pause = sandboxImage ?? (list ? parseImagesList(list).pause : 'registry.k8s.io/pause:3.10.1');
    await teardown({
      binDir: this.cache.bin,
      containerd: this.containerdInput(pause),
      files: [this.kubeconfigPath],
      log: this.log('containerd'),
      progress,
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
    const state = await this.state();
    let nodes: NodeInfo[] = [];
    if (state || anyProcess) {
      try {
        nodes = await new Kubectl(this.bin('kubectl'), '/etc/kubernetes/admin.conf').nodes();
      } catch (e) {
        problems.push(`API server: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    for (const [k, v] of Object.entries(processes)) if (state && !v) problems.push(`${k} is not running`);
    for (const n of nodes) if (!n.ready) problems.push(`node ${n.name} is NotReady`);
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
      if (!listed.some((l) => l.startsWith(`${ref} `) && l.includes(`${IMAGE_ID_LABEL}=${id}`))) todo.push({ img, id });
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

