/**
 * A cluster that already exists (managed, on-premises, many nodes), reached only through a
 * kubeconfig context: stackport touches nothing on the host and no node, only the API server and
 * a registry. It does not create or delete the cluster; images go through the registry
 * (docker push, manifests by digest); the app is reached by a `kubectl port-forward` stackport
 * runs (port-forward.ts) or the address the user names (--entry-url).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StackportError } from '../../errors.js';
import { run } from '../../exec/run.js';
import { ConsoleProgress } from '../../ui/progress.js';
import { CacheLayout } from '../build/cache.js';
import { Kubectl } from '../kubectl.js';
import { KUBERNETES_VERSION } from '../build/versions.js';
import type { ClusterProvider, ClusterStatus, CreateOptions, NodeInfo, ProviderContext } from './provider.js';
import { configuredRegistry, formatRegistry, pushImages, type RegistryRef } from '../addons/registry.js';

export interface KubeconfigOptions {
  /** --kubeconfig, else KUBECONFIG (first file), else ~/.kube/config */
  kubeconfig?: string;
  /** --context, else the kubeconfig's current context */
  context?: string;
  /** --namespace, else the context's namespace, else default */
  namespace?: string;
  registry?: RegistryRef;
  /** --entry-url: an Ingress or LoadBalancer address; else a port-forward */
  entryUrl?: string;
  /** kubectl binary (the caller resolves it: src/migrate/kube.ts kubectlBinary) */
  kubectl?: string;
}

/** The kubeconfig provider's options from the flags (undefined when none is given). */
export function remoteOptions(v: { kubeconfig?: string; context?: string; namespace?: string; 'entry-url'?: string; registry?: string }): KubeconfigOptions | undefined {
  if (v.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.namespace)) {
    throw new StackportError(`--namespace "${v.namespace}" is not a valid namespace name`, { exitCode: 2 });
  }
  if (v['entry-url'] !== undefined && !/^https?:\/\/[^/\s]+/.test(v['entry-url'])) {
    throw new StackportError(`--entry-url "${v['entry-url']}" is not an http(s) URL`, { exitCode: 2, hint: 'e.g. --entry-url http://app.example.com' });
  }
  if (!v.kubeconfig && !v.context && !v.namespace && !v['entry-url']) return undefined;
  return { kubeconfig: v.kubeconfig, context: v.context, namespace: v.namespace, entryUrl: v['entry-url']?.replace(/\/+$/, ''), registry: configuredRegistry(v.registry) };
}

/**
 * --provider as every command that takes it checks it (exit 2): a known provider, and not a local
 * one together with flags that name an existing cluster (`remoteFlags`: those given, as written).
 */
export function checkedProvider(provider: string | undefined, remoteFlags: string[]): string | undefined {
  if (provider && !['kubeadm', 'kind', 'kubeconfig'].includes(provider)) {
    throw new StackportError(`--provider must be kubeadm, kind or kubeconfig, not "${provider}"`, { exitCode: 2 });
  }
  if (remoteFlags.length && provider && provider !== 'kubeconfig') {
    throw new StackportError(`${remoteFlags.join(', ')} ${remoteFlags.length > 1 ? 'are' : 'is'} for --provider kubeconfig, not ${provider}`, { exitCode: 2 });
  }
  return provider;
}

/** The flags of `names` that were given, as written on the command line. */
export function givenFlags(v: Record<string, unknown>, names: string[]): string[] {
  return names.filter((n) => v[n] !== undefined).map((n) => `--${n}`);
}

export function sourceKubeconfig(o: KubeconfigOptions, env: NodeJS.ProcessEnv = process.env): string {
  return o.kubeconfig ?? env.KUBECONFIG?.split(':').find(Boolean) ?? path.join(os.homedir(), '.kube', 'config');
}

export class KubeconfigProvider implements ClusterProvider {
  readonly name = 'kubeconfig' as const;
  readonly source: string;
  private readonly file: string;
  private resolved?: { context: string; namespace: string; server: string };
  /** set by a caller that started a port-forward (migrate's smoke step) */
  entryOverride?: string;

  constructor(
    private readonly ctx: ProviderContext,
    readonly options: KubeconfigOptions = {},
  ) {
    this.source = sourceKubeconfig(options);
    this.file = path.join(ctx.root, '.stackport', 'remote-kubeconfig');
  }

  get registry(): RegistryRef | undefined {
    return this.options.registry;
  }

  /** STACKPORT_KUBECTL, else the kubectl built with the local clusters, else PATH's. */
  private binary(): string {
    if (this.options.kubectl ?? process.env.STACKPORT_KUBECTL) return (this.options.kubectl ?? process.env.STACKPORT_KUBECTL)!;
    const built = new CacheLayout(KUBERNETES_VERSION).binary('kubectl');
    return existsSync(built) ? built : 'kubectl';
  }

  /**
   * One context of the user's kubeconfig, flattened into .stackport/remote-kubeconfig (mode 0600)
   * with the namespace set: every later kubectl call names only that file.
   */
  async kubeconfig(): Promise<string> {
    if (this.resolved) return this.file;
    if (!existsSync(this.source)) {
      throw new StackportError(`kubeconfig ${this.source} does not exist`, { hint: 'name one with --kubeconfig FILE (or set KUBECONFIG)', exitCode: 2 });
    }
    const args = ['config', 'view', '--kubeconfig', this.source, '--minify', '--flatten', '-o', 'json', ...(this.options.context ? ['--context', this.options.context] : [])];
    let text: string;
    try {
      text = (await run([this.binary(), ...args], { what: 'kubectl config view', timeoutMs: 20_000 })).stdout;
    } catch (e) {
      const why = ((e as { stderr?: string }).stderr ?? '').trim().split('\n').at(-1) ?? '';
      throw new StackportError(`${this.source}: ${this.options.context ? `context ${this.options.context}` : 'the current context'} cannot be used (${why})`, {
        hint: `list contexts with: kubectl --kubeconfig ${this.source} config get-contexts; pick one with --context NAME`,
        exitCode: 2,
      });
    }
    type Cfg = { 'current-context'?: string; contexts?: { name: string; context: { namespace?: string } }[]; clusters?: { cluster: { server?: string } }[] };
    const cfg = JSON.parse(text) as Cfg;
    const context = cfg.contexts?.[0];
    if (!context) throw new StackportError(`${this.source} has no context${this.options.context ? ` named ${this.options.context}` : ''}`, { hint: 'pick one with --context NAME', exitCode: 2 });
    const namespace = this.options.namespace ?? context.context.namespace ?? 'default';
    context.context.namespace = namespace;
    cfg['current-context'] = context.name;
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(this.file, JSON.stringify(cfg, null, 2), { mode: 0o600 });
    this.resolved = { context: context.name, namespace, server: cfg.clusters?.[0]?.cluster.server ?? '?' };
    return this.file;
  }

  async namespace(): Promise<string> {
    await this.kubeconfig();
    return this.resolved!.namespace;
  }

  async kubectl(): Promise<Kubectl> {
    return new Kubectl(this.binary(), await this.kubeconfig());
  }

  async create(): Promise<void> {
    const s = await this.status();
    if (s.state === 'running') return;
    throw new StackportError(`the cluster of ${this.source} (${this.resolved?.context ?? 'current context'}) does not answer, and stackport does not create clusters it reaches through a kubeconfig`, {
      hint: s.problems[0] ?? 'check the server address and the credentials',
    });
  }

  async delete(): Promise<void> {
    throw new StackportError('stackport does not delete a cluster it reaches through a kubeconfig', {
      hint: `remove the app instead: kubectl --kubeconfig ${this.file} delete all,pvc -l app.kubernetes.io/managed-by=stackport`,
      exitCode: 2,
    });
  }

  async status(): Promise<ClusterStatus> {
    const base: ClusterStatus = { provider: 'kubeconfig', state: 'absent', nodes: [], processes: {}, problems: [], entry: this.entry() };
    let k: Kubectl;
    try {
      k = await this.kubectl();
    } catch (e) {
      base.problems.push((e as Error).message);
      return base;
    }
    base.kubeconfig = this.file;
    const v = await k.run(['version', '-o', 'json'], { timeoutMs: 20_000 }).then(
      (r) => JSON.parse(r.stdout) as { serverVersion?: { gitVersion?: string } },
      (e: { stderr?: string; message: string }) => {
        base.problems.push(`API server ${this.resolved?.server} does not answer: ${(e.stderr ?? e.message).trim().split('\n').at(-1)}`);
        return undefined;
      },
    );
    if (!v) return base;
    base.kubernetesVersion = v.serverVersion?.gitVersion;
    base.nodes = await this.nodes();
    for (const n of base.nodes) if (!n.ready) base.problems.push(`node ${n.name} is not Ready`);
    return { ...base, state: base.problems.length ? 'degraded' : 'running' };
  }

  /** Nodes, when the credentials may list them (a namespace-scoped account may not: then none). */
  async nodes(): Promise<NodeInfo[]> {
    const k = await this.kubectl();
    return k.nodes().catch(() => []);
  }

  /** Pushes to the registry; without one, a remote cluster cannot get the engine's images. */
  async loadImages(images: string[], options: CreateOptions = {}): Promise<string[]> {
    if (!images.length) return [];
    const registry = this.requireRegistry();
    await pushImages(images, registry, options.progress ?? new ConsoleProgress());
    return images;
  }

  requireRegistry(): RegistryRef {
    if (!this.options.registry) {
      throw new StackportError('a cluster reached through a kubeconfig pulls images from a registry, and none is configured', {
        hint: 'name one with --registry host[:port][/prefix] (or STACKPORT_REGISTRY); `npx zx scripts/cluster.mjs registry up` runs one on 127.0.0.1:5001',
        exitCode: 2,
      });
    }
    return this.options.registry;
  }

  /** Whether the registry has the image under its tag. */
  async hasImage(image: string): Promise<boolean> {
    if (!this.options.registry) return false;
    const { registryRepository } = await import('../addons/registry.js');
    const { repository, tag } = registryRepository(image, this.options.registry);
    const r = await run(['docker', 'manifest', 'inspect', '--insecure', `${repository}:${tag}`], { timeoutMs: 20_000 }).then(
      () => true,
      () => false,
    );
    return r;
  }

  async loadArchives(): Promise<void> {
    throw new StackportError('image archives cannot be loaded into a cluster reached through a kubeconfig', { hint: `push them to ${this.options.registry ? formatRegistry(this.options.registry) : 'a registry'} instead` });
  }

  /** --entry-url, or the port-forward a caller started; empty until then. */
  entry(): string {
    return this.options.entryUrl ?? this.entryOverride ?? '';
  }
}
