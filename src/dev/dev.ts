/**
 * `make dev`: watch every built service's context and put each edit live on the target
 * (Compose or the cluster), one update at a time, with that service's smoke checks and one line
 * per update; the watched services' logs stream in between. stop() (Ctrl-C) stops watching and
 * leaves the stack running.
 */
import path from 'node:path';
import { commandArgs } from '../ui/args.js';
import { StackportError } from '../errors.js';
import type { DevCompile, DevSync } from '../model/app.js';
import { detect } from '../cluster/providers/detect.js';
import { checkedProvider, givenFlags, KubeconfigProvider, remoteOptions, type KubeconfigOptions } from '../cluster/providers/kubeconfig.js';
import { PortForward } from '../cluster/providers/port-forward.js';
import { configuredRegistry } from '../cluster/addons/registry.js';
import { DEFAULT_OPTIONS, transform } from '../k8s/transform.js';
import { kubectlFor } from '../migrate/kube.js';
import { loadedProject, prepareStack, type Stack } from '../stack/stack.js';
import { formatError } from '../ui/report.js';
import { ConsoleProgress, SilentProgress, type Progress } from '../ui/progress.js';
import { buildToolchain, Toolchain, toolchainImage, tscServerScript } from './compile.js';
import { ClusterDevTarget } from './cluster-target.js';
import { ComposeDevTarget } from './compose-target.js';
import type { DevTarget, LogStream } from './target.js';
import { applyChange, type UpdateContext, type UpdateResult, type WatchedService } from './update.js';
import { watchContexts, type Change, type Watching } from './watch.js';

export interface DevOptions {
  root: string;
  target: 'compose' | 'cluster';
  composeFile?: string;
  env?: NodeJS.ProcessEnv;
  /** cluster: namespace of the app (default: default; kubeconfig: the context's), provider, and the entry's NodePort. */
  namespace?: string;
  provider?: string;
  nodePort?: number;
  /** cluster: push rebuilt images there and roll by digest (else STACKPORT_REGISTRY, else the registry the workload already pulls from). */
  registry?: string;
  /** --provider kubeconfig: the existing cluster's kubeconfig, context, namespace and entry URL. */
  remote?: KubeconfigOptions;
  /** Stream the watched services' logs (default true). */
  logs?: boolean;
  quietMs?: number;
  out?: NodeJS.WritableStream;
  progress?: Progress;
  onUpdate?: (r: UpdateResult) => void;
}

export interface DevSession {
  target: DevTarget;
  services: WatchedService[];
  /** Resolves when every update queued so far is done. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDev(o: DevOptions): Promise<DevSession> {
  const out = o.out ?? process.stdout;
  const progress = o.progress ?? new ConsoleProgress();
  const env = o.env ?? process.env;
  const stack = await prepareStack({ root: o.root, progress: new SilentProgress(), composeFile: o.composeFile, env });
  const { app } = loadedProject(stack);
  const services: WatchedService[] = stack.config.services
    .filter((s) => s.build)
    .map((s) => ({
      name: s.name,
      context: path.resolve(path.dirname(stack.composeFile), s.build!.context),
      dockerfile: s.build!.dockerfile,
      args: s.build!.args,
      image: s.image ?? `${stack.project}-${s.name}`,
      dev: app.services.find((a) => a.name === s.name)?.dev,
    }));
  if (services.length === 0) throw new StackportError(`${stack.displayFile} has no service with a build: nothing to watch`, { exitCode: 2 });
  const target = await progress.step(`${o.target}: find the running services`, () => makeTarget(o, stack, services));
  try {
    return await watchOn(target, o, stack, services, out, progress);
  } catch (e) {
    // what the target holds (a port-forward) goes with a failed start
    await target.close?.();
    throw e;
  }
}

/** The session on a target that was found: toolchains warmed, contexts watched, logs followed. */
async function watchOn(target: DevTarget, o: DevOptions, stack: Stack, services: WatchedService[], out: NodeJS.WritableStream, progress: Progress): Promise<DevSession> {
  for (const s of services) {
    if ((await target.instances(s.name)).length === 0) {
      throw new StackportError(`${s.name} is not running on ${o.target === 'compose' ? `Compose project ${stack.project}` : `the cluster (namespace ${o.remote?.namespace ?? o.namespace ?? 'default'})`}`, {
        hint: o.target === 'compose' ? 'start it first: make up' : 'put the app on the cluster first: make migrate',
      });
    }
  }
  const rules = services.flatMap((s) => (s.dev?.sync ?? []).filter((r) => r.compile).map((r) => ({ s, rule: r as DevSync & { compile: DevCompile }, stage: r.compile!.stage })));
  const stages = rules.filter((x, i) => rules.findIndex((y) => y.s === x.s && y.stage === x.stage) === i);
  const toolchains = new Map<string, Toolchain>();
  for (const { s, stage } of stages) {
    const image = toolchainImage(stack.project, s.name, stage);
    await progress.step(`${s.name}: toolchain (Dockerfile stage ${stage})`, () => buildToolchain(s, image, stage));
    toolchains.set(`${s.name}\0${stage}`, new Toolchain(image, image.replace(/:latest$/, '').replace(/[^a-z0-9_.-]/g, '-'), tscServerScript(o.root)));
  }
  // resident compilers start now and compile once, so the first edit is a warm one
  for (const { s, rule, stage } of rules.filter((x) => 'tsc' in x.rule.compile)) {
    await progress.step(`${s.name}: resident compiler (${stage}'s TypeScript, ${'tsc' in rule.compile ? rule.compile.tsc : ''})`, () => toolchains.get(`${s.name}\0${stage}`)!.warm(rule, s.context));
  }

  let logs: LogStream | undefined;
  const ctx: UpdateContext = { target, project: stack.project, outputs: new Map(), toolchains,
    onRolled: () => logs?.restart?.(),
    onRebuilt: async (svc) => {
      for (const { s, stage } of stages.filter((x) => x.s.name === svc.name)) {
        await buildToolchain(s, toolchainImage(stack.project, s.name, stage), stage);
        await toolchains.get(`${s.name}\0${stage}`)?.reset();
      }
      for (const { s, rule, stage } of rules.filter((x) => x.s.name === svc.name)) await toolchains.get(`${s.name}\0${stage}`)?.warm(rule, s.context);
    },
  };
  // one update at a time; changes that arrive meanwhile are merged per service
  const waiting = new Map<string, Change>();
  let busy: string | undefined;
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (c: Change) => {
    const prev = waiting.get(c.service);
    if (prev) {
      const files = [...new Set([...prev.files, ...c.files])].sort();
      waiting.set(c.service, { service: c.service, files, removed: c.removed.concat(prev.removed.filter((f) => !c.files.includes(f))), firstAt: prev.firstAt });
      return;
    }
    waiting.set(c.service, c);
    queue = queue.then(async () => {
      const change = waiting.get(c.service)!;
      waiting.delete(c.service);
      busy = c.service;
      const svc = services.find((s) => s.name === change.service)!;
      const r = await applyChange(ctx, svc, change).catch((err): UpdateResult => ({ service: svc.name, files: change.files, action: 'sync', ok: false, smoke: [], line: `✗ ${svc.name}: ${(err as Error).message}`, error: err as StackportError }));
      busy = undefined;
      out.write(`${r.line}\n`);
      if (r.error) out.write(`${formatError(r.error)}\n`);
      o.onUpdate?.(r);
    });
  };
  const lookups = new Map<string, { at: number; instances: ReturnType<DevTarget['instances']> }>();
  ctx.lookups = lookups;
  const prefetch = (service: string) => {
    // only when no update of that service is waiting or running (its instances may change)
    if (waiting.has(service) || busy === service) return;
    const instances = target.instances(service);
    instances.catch(() => undefined);
    lookups.set(service, { at: Date.now(), instances });
  };
  const watching: Watching = watchContexts(services.map((s) => ({ service: s.name, context: s.context })), enqueue, { quietMs: o.quietMs, onFirst: prefetch });
  await watching.ready;
  if (o.logs !== false) logs = target.streamLogs(services.map((s) => s.name), out);
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';
  out.write(`watching ${services.map((s) => `${s.name} (${rel(s.context)}: ${s.dev?.sync.length ? `sync ${s.dev.sync.map((r) => r.src || '.').join(', ')}, else rebuild` : 'rebuild'})`).join(', ')} on ${o.target}; Ctrl-C stops watching, the stack keeps running\n`);
  return {
    target,
    services,
    idle: async () => {
      // a change may be waiting for its quiet period: the caller awaits onUpdate for that
      await queue;
    },
    stop: async () => {
      await watching.close();
      logs?.stop();
      await queue;
      await Promise.all([...toolchains.values()].map((t) => t.stop()));
      await target.close?.();
    },
  };
}

async function makeTarget(o: DevOptions, stack: Stack, _services: WatchedService[]): Promise<DevTarget> {
  if (o.target === 'compose') return new ComposeDevTarget(stack);
  const registry = configuredRegistry(o.registry, o.env ?? process.env);
  const provider = await detect({ root: o.root }, o.provider ?? (o.remote ? 'kubeconfig' : undefined), { remote: { ...o.remote, registry } });
  const status = await provider.status();
  const remote = provider instanceof KubeconfigProvider ? provider : undefined;
  if (status.state !== 'running') {
    throw new StackportError(remote ? `the cluster of ${remote.source} is ${status.state}${status.problems[0] ? `: ${status.problems[0]}` : ''}` : `the cluster (${provider.name}) is ${status.state}`, {
      hint: remote ? 'check --kubeconfig, --context and the credentials' : 'make cluster-up, then make migrate',
    });
  }
  const kubectl = remote ? await remote.kubectl() : await kubectlFor(provider);
  const namespace = remote ? await remote.namespace() : (o.namespace ?? 'default');
  let entry = provider.entry();
  let forward: PortForward | undefined;
  if (o.nodePort) {
    const ip = (await provider.nodes()).find((n) => n.internalIp)?.internalIp;
    if (!ip) throw new StackportError('no node has an internal IP to reach the NodePort on');
    entry = `http://${ip}:${o.nodePort}`;
  } else if (remote && !entry) {
    // a cluster stackport did not make: the entry Service through a port-forward, as migrate's smoke step reaches it
    const e = transform(loadedProject(stack).app, { ...DEFAULT_OPTIONS, namespace }).entry;
    if (!e) throw new StackportError('the app has no entry service (a service that publishes a port) to run the smoke checks through', { hint: 'name its address with --entry-url', exitCode: 2 });
    forward = await new PortForward(kubectl, { namespace, target: `service/${e.name}`, remotePort: e.ports[0]!.port }).start();
    entry = forward.url;
  }
  return new ClusterDevTarget({ stack, provider, kubectl, namespace, entry, registry, forward });
}

export const USAGE = `usage: npx zx scripts/dev.mjs [--target compose|cluster] [-f compose.yaml] [--namespace NS] [--node-port PORT] [--provider kubeadm|kind|kubeconfig]
       [--registry host[:port][/prefix]] [--kubeconfig FILE] [--context NAME] [--entry-url URL] [--no-logs]

Watches each built service's build context (honouring .dockerignore) and puts every edit live:
files under an x-stackport.dev.sync rule are copied into the running containers or pods
(compiled first, the process restarted in place, where the rule says); any other change
rebuilds that service's image and rolls only that service. After each update: the service's
smoke checks and one line. Ctrl-C stops watching; the stack keeps running.

  --target compose|cluster   where the app runs (default compose)
  -f, --file <file>          Compose file (default compose/compose.yaml)
  --namespace <ns>           cluster: the app's namespace (default default; kubeconfig: the context's)
  --node-port <port>         cluster: the entry's NodePort, reached on the node's address (default: the provider's entry, 127.0.0.1:8090)
  --provider kubeadm|kind|kubeconfig  cluster provider (default: detected; kubeconfig when --kubeconfig/--context/--entry-url is given)
  --registry host[:port][/prefix]     cluster: push rebuilt images there and roll by digest (local = 127.0.0.1:5001; default
                             STACKPORT_REGISTRY, else the registry a workload already names its image from by digest, else
                             the images are loaded into the nodes)
  --kubeconfig FILE, --context NAME   an existing cluster (provider kubeconfig; images go through --registry)
  --entry-url URL            kubeconfig: reach the app there instead of a kubectl port-forward to its entry Service
  --no-logs                  do not stream the services' logs`;

export function parseDevArgs(argv: string[]): Omit<DevOptions, 'root'> & { help?: boolean } {
  const v = commandArgs(argv, {
    target: { type: 'string' },
    file: { type: 'string', short: 'f' },
    namespace: { type: 'string' },
    'node-port': { type: 'string' },
    provider: { type: 'string' },
    registry: { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'entry-url': { type: 'string' },
    'no-logs': { type: 'boolean' },
  }).values;
  const target = v.target ?? 'compose';
  if (target !== 'compose' && target !== 'cluster') throw new StackportError(`--target must be compose or cluster, not "${target}"`, { exitCode: 2 });
  const nodePort = v['node-port'] === undefined ? undefined : Number(v['node-port']);
  if (nodePort !== undefined && !(Number.isInteger(nodePort) && nodePort >= 1 && nodePort <= 65535)) {
    throw new StackportError(`--node-port must be a port number, not "${v['node-port']}"`, { exitCode: 2 });
  }
  // --namespace, --entry-url and --registry are checked the way migrate checks them (dev's --namespace
  // also names the namespace on a local cluster, so it alone does not mean an existing one)
  configuredRegistry(v.registry);
  const given = remoteOptions(v);
  const remoteFlags = givenFlags(v, ['kubeconfig', 'context', 'entry-url']);
  checkedProvider(v.provider, remoteFlags);
  const remote = remoteFlags.length || v.provider === 'kubeconfig' ? (given ?? {}) : undefined;
  if ((remote || v.registry !== undefined) && target !== 'cluster') throw new StackportError('--registry, --kubeconfig, --context and --entry-url are for --target cluster', { exitCode: 2 });
  return { target, composeFile: v.file, namespace: v.namespace, nodePort, provider: v.provider, registry: v.registry, remote, logs: !v['no-logs'], help: v.help };
}

export async function devCommand(argv: string[], ctx: { root: string }): Promise<void> {
  const args = parseDevArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const session = await startDev({ ...args, root: ctx.root });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('\nstopping: watchers closed, the stack keeps running\n');
  await session.stop();
  process.exit(0);
}
