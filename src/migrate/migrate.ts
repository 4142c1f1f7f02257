/**
 * The migration: a list of named steps, each idempotent (a re-run after a failure or Ctrl-C
 * continues), each timed. A failure names its step, keeps the failing command's output, and
 * leaves the Compose stack running and its data untouched; only `--cutover`, after the smoke
 * suite passed on the cluster, stops the Compose stack.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import { ActionError, hostCmder, runActions, type Action, type ActionContext, type ActionOutcome, type Cmder } from '../exec/actions.js';
import type { ContainerState } from '../stack/containers.js';
import type { Progress } from '../ui/progress.js';
import { formatMs } from '../ui/progress.js';
import { detect } from '../cluster/providers/detect.js';
import { WEB_NODE_PORT } from '../cluster/providers/provider.js';
import type { ClusterProvider } from '../cluster/providers/provider.js';
import type { Kubectl } from '../cluster/kubectl.js';
import { buildChanged, down, loadedProject, prepareStack, type Stack } from '../stack/stack.js';
import { projectContainers, serviceState } from '../stack/containers.js';
import { markerFile } from '../stack/commands.js';
import { stageManifests } from '../k8s/stage.js';
import { DEFAULT_OPTIONS, type TransformOptions } from '../k8s/transform.js';
import { schemaValidator } from '../k8s/validate.js';
import type { Target } from '../k8s/emit.js';
import { assertSmokePassed, copyRecord, formatResults, type CheckResult } from '../smoke/smoke.js';
import { runSuite } from '../smoke/run.js';
import { K8sTarget, type K8sEntry } from '../smoke/k8s-target.js';
import { dnsLabel } from '../k8s/names.js';
import { ensureProjectEntry, entryOf, freeNodePort, readEntryRecord } from '../cluster/host/entry.js';
import { imagesOf, kubectlFor, readOnlyKubectl } from './kube.js';
import { dataServices, type DataService } from './data-services.js';
import { pinImages, setStorageClass, stampImageIds } from './image-stamp.js';
import { configuredRegistry, LOCAL_REGISTRY, formatRegistry, pushImages, wireKind, wireKubeadm, type RegistryRef } from '../cluster/addons/registry.js';
import { KubeconfigProvider, type KubeconfigOptions } from '../cluster/providers/kubeconfig.js';
import { assertPreflight, preflight as clusterPreflight, pullTest } from '../cluster/providers/preflight.js';
import { PortForward } from '../cluster/providers/port-forward.js';
import { workloadsIn, type RenderedWorkload } from './rendered.js';
import { imageId } from '../engine/images.js';
import { waitRollout, workloads, type WorkloadStatus } from './rollout.js';
import { copyPostgres, type CopyResult } from './data-postgres.js';
import { moveBroker, type BrokerResult } from './data-rabbitmq.js';
import { copyMysql } from './data-mysql.js';
import { claimFor, composeMounts, copyVolume, type ComposeMount } from './data-files.js';
import { redisKeys, redisKeysInPod, redisSave } from './data-redis.js';
import { pipe } from '../exec/pipe.js';

export const FIELD_MANAGER = 'stackport';
export const MANAGED = 'app.kubernetes.io/managed-by=stackport';
const PRUNE_KINDS = ['deployments.apps', 'statefulsets.apps', 'daemonsets.apps', 'services', 'configmaps', 'jobs.batch', 'poddisruptionbudgets.policy', 'networkpolicies.networking.k8s.io', 'horizontalpodautoscalers.autoscaling'];

export interface MigrateOptions {
  root: string;
  progress: Progress;
  out: NodeJS.WritableStream;
  provider?: string;
  dryRun?: boolean;
  cutover?: boolean;
  forceData?: boolean;
  /** Skip moving data (the cluster starts empty). */
  noData?: boolean;
  env?: NodeJS.ProcessEnv;
  /** One Compose file or several (merged in order). */
  composeFile?: string | string[];
  /** Copy bind-mounted data directories too (default: a warning). */
  copyBindMounts?: boolean;
  rolloutTimeoutMs?: number;
  /** --registry host[:port][/prefix] (or STACKPORT_REGISTRY; `local` = 127.0.0.1:5001): push, and name images by digest */
  registry?: string;
  /** --provider kubeconfig: the existing cluster's kubeconfig, context and namespace (src/cluster/providers/kubeconfig.ts) */
  remote?: KubeconfigOptions;
  storageClass?: string;
  /** The command seam (default: the host's). */
  cmd?: Cmder;
}

/**
 * What the migration does to the machine outside kubectl, behind one seam each (the unit tests
 * pass fakes; kubectl goes through `ctx.kubectl`, other commands through `ctx.cmd`).
 */
export interface MigrateEdges {
  containers(project: string): Promise<ContainerState[]>;
  composeMounts(project: string): Promise<ComposeMount[]>;
  build(stack: Stack): Promise<string[]>;
  /** `compose down` (cutover only) */
  down(stack: Stack): Promise<void>;
  imageId(ref: string): Promise<string | undefined>;
  /** kubectl bound to the provider's admin kubeconfig */
  kubectl(provider: ClusterProvider): Promise<Kubectl>;
}

export const hostEdges: MigrateEdges = { containers: projectContainers, composeMounts, build: buildChanged, down, imageId, kubectl: kubectlFor };

export interface MigrateContext extends ActionContext {
  opts: MigrateOptions;
  edges: MigrateEdges;
  /** each action's one-line result, by action name (the report) */
  details: Map<string, string>;
  stack: Stack;
  composeRunning: boolean;
  provider: ClusterProvider;
  kubectl?: Kubectl;
  target: Target;
  namespace: string;
  workDir: string;
  stageDir: string;
  rendered: string;
  /** The workloads of the rendered stream (parsed once, at the generate step). */
  workloads: RenderedWorkload[];
  images: string[];
  /** Engine image ID of each image, known from the deliver step on. */
  imageIds: Record<string, string>;
  rollout: WorkloadStatus[];
  postgres?: CopyResult;
  broker?: BrokerResult;
  smoke: CheckResult[];
  notes: string[];
  registry?: RegistryRef;
  /** image → registry reference by digest, when a registry is used */
  pinned: Record<string, string>;
  /** the entry Service and its port (reached by port-forward on a cluster that is not local) */
  entry?: { service: string; port: number };
  namespaceExists: boolean;
  /** The project's entry URL on the host, once known (smoke step). */
  entryUrl?: string;
}

export interface StepReport {
  name: string;
  ms: number;
  detail: string;
}

type Ctx = MigrateContext;

/** What a migration knows before its first action; the rest of the context starts empty. */
type ContextSeed = Pick<Ctx, 'opts' | 'stack' | 'provider' | 'target' | 'namespace' | 'workDir' | 'cmd' | 'progress' | 'edges'> & Partial<Ctx>;

/** A fresh context: nothing rendered, delivered, moved or noted yet (migrate and its unit tests). */
export function newMigrateContext(seed: ContextSeed): MigrateContext {
  return { composeRunning: false, stageDir: path.join(seed.workDir, 'staged'), rendered: '', workloads: [], images: [], imageIds: {}, rollout: [], smoke: [], notes: [], pinned: {}, namespaceExists: true, details: new Map(), ...seed };
}

/** One migrate action, as the report shows it (src/exec/actions.ts runs it). */
interface Step {
  /** the action's name: kebab-case, what STACKPORT_FAIL_ACTION and the error name */
  id: string;
  /** shown in progress and the report */
  name: string;
  /** the report line its detail joins (the data moves: "move data") */
  group?: string;
  when?: (c: Ctx) => boolean;
  /** already done? looked up on the real thing (the cluster, the engine), before run */
  done?: (c: Ctx) => Promise<boolean>;
  run: (c: Ctx, update: (d: string) => void) => Promise<string>;
  undo?: (c: Ctx) => Promise<void>;
}

function toAction(step: Step): Action<Ctx> {
  return {
    name: step.id,
    title: step.name,
    done: step.done,
    undo: step.undo,
    run: async (c, update) => {
      c.details.set(step.id, await step.run(c, update));
    },
  };
}

// ---------------------------------------------------------------- steps

const preflight: Step = {
  id: 'preflight',
  name: 'preflight',
  run: async (c) => {
    const containers = await c.edges.containers(c.stack.project);
    const states = c.stack.config.services.map((s) => [s.name, serviceState(containers, s.name, s.hasHealthcheck)] as const);
    c.composeRunning = states.every(([, st]) => st === 'healthy' || st === 'running');
    const notRunning = states.filter(([, st]) => st !== 'healthy' && st !== 'running');
    const status = await c.provider.status();
    if (!c.composeRunning && !c.opts.noData) {
      if (notRunning.length === states.length && status.state === 'running') {
        c.notes.push('the Compose stack is stopped: its data is not moved again (a cutover happened, or it was never started)');
      } else {
        throw new StackportError(`the Compose stack is not healthy (${notRunning.map(([n, st]) => `${n} ${st}`).join(', ')}), so its data cannot be moved`, {
          hint: 'run `make up` first, or migrate with --no-data to start the cluster empty',
        });
      }
    }
    if (status.state !== 'running') {
      if (c.opts.dryRun) return `Compose ${c.composeRunning ? 'healthy' : 'stopped'}; cluster (${c.provider.name}) ${status.state}: would be created`;
      await c.provider.create({ progress: c.opts.progress });
    }
    c.kubectl = c.provider instanceof KubeconfigProvider ? await c.provider.kubectl() : c.opts.dryRun ? await readOnlyKubectl(c.provider, c.opts.root) : await c.edges.kubectl(c.provider);
    const nodes = await c.provider.nodes();
    if (c.provider instanceof KubeconfigProvider) return `Compose ${c.composeRunning ? 'healthy' : 'stopped'}; cluster ${status.kubernetesVersion ?? '?'} through ${c.provider.source}, namespace ${c.namespace}${nodes.length ? `, ${nodes.filter((n) => n.ready).length}/${nodes.length} node(s) Ready` : ' (nodes not visible to these credentials)'}`;
    return `Compose ${c.composeRunning ? 'healthy' : 'stopped'}; cluster ${c.provider.name}: ${nodes.filter((n) => n.ready).length}/${nodes.length} node(s) Ready`;
  },
};

const generateStep: Step = {
  id: 'generate',
  name: 'generate manifests',
  run: async (c) => {
    // the loader merges several -f files itself, in Compose's order; the stack's one load of them
    const load = { files: c.stack.composeFiles, envFile: c.stack.envFile, projectName: c.stack.project, displayBase: c.opts.root };
    const transform: TransformOptions = { ...DEFAULT_OPTIONS, displayBase: c.opts.root, ...(c.stack.demo ? { namespace: c.namespace, nodePort: WEB_NODE_PORT } : { namespace: c.namespace, ...(await projectEntryPorts(c)) }) };
    rmSync(c.stageDir, { recursive: true, force: true });
    const staged = stageManifests({ dir: c.stageDir, load, loaded: loadedProject(c.stack), transform, target: c.target, validate: await schemaValidator() });
    const result = staged.result;
    if (result.manifests.entry) c.entry = { service: result.manifests.entry.name, port: result.manifests.entry.ports[0]!.port };
    if (c.provider instanceof KubeconfigProvider) remoteKustomization(c.stageDir, c.namespace);
    c.rendered = (await c.kubectl!.run(['kustomize', c.stageDir], { what: 'kubectl kustomize' })).stdout;
    c.workloads = workloadsIn(c.rendered);
    c.images = imagesOf(c.workloads);
    for (const w of result.warnings) c.notes.push(`generator: ${w.message}`);
    return `${result.objectCount} objects for ${result.manifests.app.services.length} services, ${staged.secrets.length} secret file(s) (${c.target} overlay)`;
  },
};

const buildStep: Step = {
  id: 'build-images',
  name: 'build images',
  run: async (c) => {
    const built = await c.edges.build(c.stack);
    return built.length ? `built ${built.join(', ')}` : 'up to date';
  },
};

/** Fills c.imageIds from the engine; returns the images it does not have. */
async function readImageIds(c: Ctx): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of c.images) {
    const id = await c.edges.imageId(ref);
    if (id) c.imageIds[ref] = id;
    else missing.push(ref);
  }
  return missing;
}

const deliverStep: Step = {
  id: 'deliver-images',
  name: 'deliver images',
  run: async (c) => {
    const missing = await readImageIds(c);
    if (missing.length) {
      throw new StackportError(`image(s) not in the Docker engine, so they cannot be delivered: ${missing.join(', ')}`, { hint: 'run `make up` first (it builds and tags them)' });
    }
    if (c.registry) {
      if (formatRegistry(c.registry) === LOCAL_REGISTRY && !(c.provider instanceof KubeconfigProvider)) await wireLocal(c);
      const t0 = Date.now();
      const pushed = await pushImages(c.images, c.registry, c.opts.progress);
      c.pinned = Object.fromEntries(pushed.map((p) => [p.image, p.ref]));
      return `pushed ${pushed.length} image(s) to ${formatRegistry(c.registry)} in ${formatMs(Date.now() - t0)}; manifests name them by digest`;
    }
    if (c.provider instanceof KubeconfigProvider) c.provider.requireRegistry();
    // the provider compares engine image IDs with what the nodes have, and loads only the rest
    const loaded = await c.provider.loadImages(c.images, { progress: c.opts.progress });
    return loaded.length ? `loaded ${loaded.join(', ')}` : `all ${c.images.length} image(s) already in the cluster`;
  },
};

/** The stream apply sends: the rendered manifests, pod templates stamped with image IDs. */
function applied(c: Ctx): string {
  const file = path.join(c.workDir, 'applied.yaml');
  let text = Object.keys(c.pinned).length ? pinImages(c.rendered, c.pinned) : stampImageIds(c.rendered, c.imageIds);
  if (c.opts.storageClass) text = setStorageClass(text, c.opts.storageClass);
  writeFileSync(file, text);
  return file;
}

function applyArgs(c: Ctx, extra: string[]): string[] {
  return ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', applied(c), ...extra];
}

/** kind/name of every object in a rendered manifest stream. */
export function renderedObjects(yamlText: string): Set<string> {
  const out = new Set<string>();
  for (const doc of parseAllDocuments(yamlText)) {
    const o = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
    if (o?.kind && o.metadata?.name) out.add(`${o.kind}/${o.metadata.name}`);
  }
  return out;
}

/**
 * Server-side apply, then prune: objects stackport labelled earlier (managed-by=stackport)
 * that the manifests no longer have are deleted. kubectl's own --prune does not work with
 * server-side apply (alpha ApplySets aside), so this is done here, by kind/name.
 */
/** The app objects stackport manages, project-agnostic: used to reset a cluster for another project. */
export const APP_KINDS = 'deployments,statefulsets,services,configmaps,pvc,networkpolicies,poddisruptionbudgets,jobs,horizontalpodautoscalers';
export const APP_SELECTOR = 'app.kubernetes.io/managed-by in (stackport,stackport-migrate)';

/** Objects stackport labelled earlier that the rendered manifests no longer have (kind/name). */
async function staleObjects(c: Ctx): Promise<string[]> {
  const wanted = renderedObjects(c.rendered);
  type Item = { kind: string; metadata: { name: string } };
  const existing = await c.kubectl!.json<{ items: Item[] }>(['get', PRUNE_KINDS.join(','), '-n', c.namespace, '-l', MANAGED]);
  return existing.items.map((i) => `${i.kind}/${i.metadata.name}`).filter((k) => !wanted.has(k));
}

/** `kubectl diff --server-side` of what apply sends: exit 0 = the cluster has it all, 1 = differs. */
async function serverDiff(c: Ctx) {
  return c.cmd.probe([c.kubectl!.binary, '--kubeconfig', c.kubectl!.kubeconfig, 'diff', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', applied(c)], { timeoutMs: 120_000 });
}

const applyStep: Step = {
  id: 'apply',
  name: 'apply',
  // done: the server-side diff is empty and nothing is left to prune
  done: async (c) => (await serverDiff(c)).exitCode === 0 && (await staleObjects(c)).length === 0,
  // rollback only (not by default): what this apply made goes again
  undo: async (c) => {
    await c.kubectl!.run(['delete', '-f', path.join(c.workDir, 'applied.yaml'), '--ignore-not-found', '--wait=false']);
  },
  run: async (c) => {
    // One project per cluster namespace: another project's objects (immutable selectors, the
    // entry NodePort) would make the apply fail half-way. Say so before changing anything.
    type Meta = { metadata: { name: string; labels?: Record<string, string> } };
    const present = await c.kubectl!.json<{ items: Meta[] }>(['get', 'deployments,statefulsets', '-n', c.namespace, '-l', MANAGED]);
    const others = [...new Set(present.items.map((i) => i.metadata.labels?.['app.kubernetes.io/instance']).filter((p) => p && p !== c.stack.project))];
    if (others.length) {
      throw new StackportError(`the cluster's ${c.namespace} namespace runs another stackport project (${others.join(', ')}), not ${c.stack.project}`, {
        hint: `remove it first: kubectl --kubeconfig ${c.kubectl!.kubeconfig} -n ${c.namespace} delete ${APP_KINDS} -l '${APP_SELECTOR}'`,
      });
    }
    if (c.provider instanceof KubeconfigProvider && !c.namespaceExists) await c.kubectl!.run(['create', 'namespace', c.namespace]);
    const r = await c.kubectl!.run(applyArgs(c, []), { what: 'kubectl apply --server-side' });
    const applied = r.stdout.split('\n').filter(Boolean);
    const stale = await staleObjects(c);
    if (stale.length) await c.kubectl!.run(['delete', '-n', c.namespace, '--wait=false', ...stale.map((k) => k.toLowerCase())]);
    return `${applied.length} object(s) applied (field manager ${FIELD_MANAGER})${stale.length ? `, pruned ${stale.join(', ')}` : ''}`;
  },
};

const rolloutStep: Step = {
  id: 'rollout',
  name: 'wait for rollout',
  done: async (c) => {
    const ws = await workloads(c.kubectl!, c.namespace, MANAGED);
    if (!ws.length || !ws.every((w) => w.done)) return false;
    c.rollout = ws;
    return true;
  },
  run: async (c, update) => {
    c.rollout = await waitRollout(c.kubectl!, c.namespace, MANAGED, c.opts.rolloutTimeoutMs ?? 300_000, update);
    return c.rollout.map((w) => `${w.name} ${w.ready}/${w.desired}`).join(', ');
  },
};

/** The report line of a logical dump and restore: copied (bytes, rows per table) or unchanged since the last copy. */
function dumpReport(what: string, method: string, r: { action: string; bytes: number; counts: Record<string, number> }, ms: number): string {
  const rows = Object.entries(r.counts).map(([t, n]) => `${t}=${n}`).join(' ') || 'none';
  return r.action === 'copied'
    ? `${what} copied with ${method}: ${r.bytes} bytes, rows ${rows} (same as Compose), ${formatMs(ms)}`
    : `${what} unchanged since the last copy (rows ${rows}), ${formatMs(ms)}`;
}

/**
 * The data moves, one action per thing moved (a database, a broker, a named volume, a bind mount),
 * known once the manifests are rendered: `data-postgres-db`, `data-volume-cache` ... Each copy
 * compares with the record it left in the cluster (ConfigMap stackport-migration) and says
 * "unchanged since the last copy" instead of copying again, so a re-run skips what was moved.
 */
async function dataSteps(c: Ctx): Promise<Step[]> {
  if (!c.composeRunning || c.opts.noData) return [];
  const steps: Step[] = [];
  const found = dataServices(c.workloads, c.stack.config.services);
  const logical = new Set(found.filter((x) => x.engine !== 'redis').map((x) => x.service));
  for (const d of found.filter((x) => x.engine === 'postgres')) {
    steps.push({
      id: `data-postgres-${dnsLabel(d.service)}`,
      name: `move data: PostgreSQL ${d.service}`,
      group: 'move data',
      run: async (c) => {
        const t0 = Date.now();
        const pod = await dataPod(c, d);
        c.postgres = await copyPostgres(c.stack, d.service, { kubectl: c.kubectl!, namespace: c.namespace, pod, container: d.container }, { force: c.opts.forceData });
        if (c.postgres.action === 'copied') copyRecord(markerFile(c.stack.stateDir, c.stack.project), 'compose', 'k8s');
        return dumpReport(`PostgreSQL ${d.service}`, 'pg_dump | psql', c.postgres, Date.now() - t0);
      },
    });
  }
  for (const d of found.filter((x) => x.engine === 'mysql')) {
    steps.push({
      id: `data-mysql-${dnsLabel(d.service)}`,
      name: `move data: MySQL/MariaDB ${d.service}`,
      group: 'move data',
      run: async (c) => {
        const pod = await dataPod(c, d);
        const r = await copyMysql(c.stack, d.service, { kubectl: c.kubectl!, namespace: c.namespace, pod, container: d.container }, { force: c.opts.forceData });
        return dumpReport(`MySQL/MariaDB ${d.service}`, 'mysqldump | mysql', r, r.ms);
      },
    });
  }
  for (const d of found.filter((x) => x.engine === 'rabbitmq')) {
    steps.push({
      id: `data-rabbitmq-${dnsLabel(d.service)}`,
      name: `move data: RabbitMQ ${d.service}`,
      group: 'move data',
      run: async (c) => {
        const t0 = Date.now();
        const pod = await dataPod(c, d);
        c.broker = await moveBroker(c.stack, d.service, { kubectl: c.kubectl!, namespace: c.namespace, pod, container: d.container });
        const b = c.broker;
        return `RabbitMQ ${d.service}: definitions imported (${b.queues} queue(s), ${b.exchanges} exchange(s), ${b.bindings} binding(s)); ` +
          (b.leftBehind.length ? `left in Compose: ${b.leftBehind.map((q) => `${q.name}=${q.messages}`).join(', ')}` : b.drained.length ? `drained ${b.drained.map((q) => `${q.name}=${q.messages}`).join(', ')} before the move` : 'no messages were queued') + `, ${formatMs(Date.now() - t0)}`;
      },
    });
  }
  // every other named volume: as files (Redis: SAVE first, keys counted after)
  const mounts = await c.edges.composeMounts(c.stack.project);
  const byVolume = new Map<string, ComposeMount[]>();
  for (const m of mounts.filter((x) => x.type === 'volume' && !logical.has(x.service))) byVolume.set(m.source, [...(byVolume.get(m.source) ?? []), m]);
  for (const [, ms] of byVolume) {
    const m = ms[0]!;
    const claim = claimFor(c.rendered, dnsLabel(m.service), m.target);
    if (!claim) {
      c.notes.push(`volume ${m.volume} of ${m.service} (${m.target}) has no claim on the cluster: not copied`);
      continue;
    }
    const redis = found.find((x) => x.engine === 'redis' && x.service === m.service);
    steps.push({
      id: `data-volume-${dnsLabel(m.volume ?? m.source)}`,
      name: `move data: volume ${m.volume ?? m.source}`,
      group: 'move data',
      run: async (c) => {
        const r = await copyVolume(ms, { kubectl: c.kubectl!, namespace: c.namespace, claim }, { force: c.opts.forceData, before: redis ? () => redisSave(c.stack, m.service) : undefined });
        let extra = '';
        if (redis && r.action === 'copied') {
          const [a, b] = [await redisKeys(c.stack, m.service), await redisKeysInPod(c.kubectl!, c.namespace, `${claim.workload}-0`)];
          if (a !== b) throw new StackportError(`Redis ${m.service}: ${a} key(s) in Compose but ${b} in the cluster after the copy`, { hint: 'the Compose Redis was written during the copy; run migrate again' });
          extra = `, ${b} key(s) (same as Compose)`;
        }
        const method = redis ? 'Redis SAVE + files (tar into the claim, service paused)' : 'files (tar into the claim, service paused)';
        return r.action === 'copied'
          ? `volume ${r.volume} (${m.service}): ${method}, ${r.bytes} bytes, ${r.files} file(s), checksum ${r.sha256.slice(0, 12)} same on both sides${extra}, ${formatMs(r.ms)}`
          : `volume ${r.volume} (${m.service}): unchanged since the last copy (${r.files} file(s), ${r.bytes} bytes), ${formatMs(r.ms)}`;
      },
    });
  }
  // bind mounts after the restart that follows the volume copies: a copy into a running pod is lost
  // when that pod starts again
  const bindSteps: typeof steps = [];
  for (const m of mounts.filter((x) => x.type === 'bind' && !logical.has(x.service))) {
    if (isFile(m.source)) {
      c.notes.push(`bind-mounted file ${m.source} -> ${m.service}:${m.target} is in the generated manifests as a ConfigMap (read-only): nothing to copy`);
      continue;
    }
    if (!c.opts.copyBindMounts) {
      c.notes.push(`bind mount ${m.source} -> ${m.service}:${m.target} is not copied (the cluster has an emptyDir there); --copy-bind-mounts copies it into the running pod`);
      continue;
    }
    bindSteps.push({
      id: `data-bind-${dnsLabel(m.service)}-${dnsLabel(path.basename(m.target) || 'root')}`,
      name: `move data: bind mount ${m.source}`,
      group: 'move data',
      run: async (c) => {
        const pod = await dataPod(c, { service: m.service, workload: c.workloads.find((w) => w.name === dnsLabel(m.service))!, engine: 'redis', container: dnsLabel(m.service) });
        const t0 = Date.now();
        const piped = await pipe(['tar', '-C', m.source, '-cf', '-', '.'], [c.kubectl!.binary, '--kubeconfig', c.kubectl!.kubeconfig, 'exec', '-i', '-n', c.namespace, pod, '--', 'tar', '-C', m.target, '-xf', '-'], { what: `copy bind mount ${m.source} into ${pod}:${m.target}` });
        return `bind mount ${m.source} (${m.service}): tar into ${pod}:${m.target} (not kept across pod restarts), ${piped.bytes} bytes, ${formatMs(Date.now() - t0)}`;
      },
    });
  }
  if (steps.some((s) => s.id.startsWith('data-volume-'))) steps.push(restartAfterCopies);
  steps.push(...bindSteps);
  if (steps.length === 0) c.notes.push('no named volume and no database: no data to move');
  return steps;
}

/** A bind mount's source that is a plain file (the generator makes it a ConfigMap); a missing source is not. */
function isFile(source: string): boolean {
  try {
    return statSync(source).isFile();
  } catch {
    return false;
  }
}

/** The ConfigMap the file copies record into (src/migrate/data-files.ts): `volume.<name>.copiedAt`. */
const COPY_RECORD = 'stackport-migration';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * The project's Deployments that have not started again since the newest file copy: a copy scales
 * its StatefulSet to 0 and back, so the pod comes back on a new address, and a proxy in front that
 * resolved the old one at its start (nginx does) would hang. Started again = restarted (the
 * template's restartedAt) or created, at or after that copy. Whole seconds: kubectl writes restartedAt
 * without a fraction.
 */
export async function restartsDue(c: Pick<Ctx, 'kubectl' | 'namespace'>): Promise<string[]> {
  const cm = await c.kubectl!.run(['get', 'configmap', COPY_RECORD, '-n', c.namespace, '-o', 'json', '--ignore-not-found']);
  const data = cm.stdout.trim() ? ((JSON.parse(cm.stdout) as { data?: Record<string, string> }).data ?? {}) : {};
  const copies = Object.entries(data).filter(([k]) => /^volume\..*\.copiedAt$/.test(k)).map(([, v]) => Date.parse(v)).filter((t) => !Number.isNaN(t));
  if (!copies.length) return [];
  const lastCopy = Math.floor(Math.max(...copies) / 1000) * 1000;
  type D = { metadata: { name: string; creationTimestamp?: string }; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
  const deps = await c.kubectl!.json<{ items: D[] }>(['get', 'deployments', '-n', c.namespace, '-l', MANAGED]);
  const since = (d: D) => Math.max(Date.parse(d.spec?.template?.metadata?.annotations?.[RESTARTED_AT] ?? '') || 0, Date.parse(d.metadata.creationTimestamp ?? '') || 0);
  return deps.items.filter((d) => since(d) < lastCopy).map((d) => d.metadata.name).sort();
}

/**
 * One restart of the project's Deployments after every file copy of the run (not one per volume),
 * after the data moves and before the smoke suite. Done when no Deployment is older than the
 * newest copy on record, so a run that copied nothing restarts nothing, and a re-run after a
 * failure here restarts them then.
 */
export const restartAfterCopies: Step = {
  id: 'restart-after-copies',
  name: 'restart after file copies',
  group: 'move data',
  done: async (c) => (await restartsDue(c)).length === 0,
  run: async (c) => {
    const due = await restartsDue(c);
    if (!due.length) return 'no Deployment started before the file copies';
    await c.kubectl!.run(['rollout', 'restart', '-n', c.namespace, ...due.map((d) => `deployment/${d}`)]);
    await waitRollout(c.kubectl!, c.namespace, MANAGED, c.opts.rolloutTimeoutMs ?? 300_000);
    return `restarted ${due.join(', ')} once after the file copies (new pod addresses)`;
  },
};

/** The pod a data service's copy goes to: a StatefulSet's first ordinal, else a ready pod. */
async function dataPod(c: Ctx, d: DataService): Promise<string> {
  if (d.workload.kind === 'StatefulSet') return `${d.workload.name}-0`;
  const selector = Object.entries(d.workload.podLabels).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await c.kubectl!.json<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>(['get', 'pods', '-n', c.namespace, '-l', selector]);
  const ready = pods.items.find((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
  if (!ready) throw new StackportError(`no ready pod of ${d.workload.kind.toLowerCase()}/${d.workload.name} to move ${d.service}'s data into`);
  return ready.metadata.name;
}

const smokeStep: Step = {
  id: 'smoke',
  name: 'smoke test on the cluster',
  run: async (c) => {
    // a cluster stackport did not make is reached through a port-forward it runs (or --entry-url)
    const forward = await openEntry(c);
    const remoteUrl = forward?.url ?? (c.provider instanceof KubeconfigProvider ? c.provider.options.entryUrl : undefined);
    const entry: K8sEntry | undefined =
      c.provider instanceof KubeconfigProvider
        ? remoteUrl && c.entry
          ? { service: c.entry.service, port: c.entry.port, host: new URL(remoteUrl).hostname, hostPort: Number(new URL(remoteUrl).port || 80) }
          : undefined
        : await clusterEntry(c);
    if (entry) c.entryUrl = `http://${entry.host}:${entry.hostPort}`;
    const target = new K8sTarget({
      kubectl: c.kubectl!,
      namespace: c.namespace,
      services: c.stack.config.services.map((s) => s.name),
      workloads: c.workloads,
      entry,
      markerFile: markerFile(c.stack.stateDir, c.stack.project),
    });
    try {
      c.smoke = await runSuite(target, c.stack.smoke, { published: c.stack.config.services.flatMap((s) => s.ports) });
    } finally {
      await forward?.stop();
    }
    c.opts.out.write(`${formatResults({ name: 'k8s' }, c.smoke)}\n`);
    assertSmokePassed({ name: 'k8s' }, c.smoke);
    return `${c.smoke.length} checks passed${c.stack.smoke.length ? ' (declared)' : ' (default: ready + published ports)'}${entry ? `; entry ${entry.host}:${entry.hostPort}` : ''}`;
  },
};

/** The entry Service of what was applied (NodePort) and the host port that reaches it. */
async function clusterEntry(c: Ctx): Promise<K8sEntry | undefined> {
  const found = entryOf(c.rendered);
  if (!found) return undefined;
  const service = c.stack.config.services.find((s) => dnsLabel(s.name) === found.name)?.name;
  if (!service) return undefined;
  if (c.stack.demo) {
    const u = new URL(c.provider.entry());
    return { service, port: found.port, host: u.hostname, hostPort: Number(u.port) };
  }
  const nodes = await c.provider.nodes();
  const ip = nodes.find((n) => n.ready && n.internalIp)?.internalIp;
  if (!ip) return undefined;
  const e = await ensureProjectEntry({ project: c.stack.project, nodeIp: ip, nodePort: found.nodePort, stateDir: c.stack.stateDir });
  return { service, port: found.port, host: '127.0.0.1', hostPort: e.hostPort };
}

/** A project other than the demo gets a NodePort of its own (kept across runs), not the demo's 30080. */
async function projectEntryPorts(c: Ctx): Promise<Partial<TransformOptions>> {
  const rec = readEntryRecord(c.stack.stateDir, c.stack.project);
  type S = { metadata: { namespace: string; name: string }; spec: { ports?: { nodePort?: number }[] } };
  const all = await c.kubectl!.json<{ items: S[] }>(['get', 'services', '-A']);
  const mine = all.items.filter((s) => s.metadata.namespace === c.namespace).flatMap((s) => (s.spec.ports ?? []).map((p) => p.nodePort)).filter(Boolean) as number[];
  const taken = new Set(all.items.filter((s) => s.metadata.namespace !== c.namespace).flatMap((s) => (s.spec.ports ?? []).map((p) => p.nodePort)).filter(Boolean) as number[]);
  const keep = rec?.nodePort && !taken.has(rec.nodePort) ? rec.nodePort : mine.find((p) => !taken.has(p));
  const nodePort = keep ?? freeNodePort(taken);
  return { nodePort, hostPort: rec?.hostPort ?? DEFAULT_OPTIONS.hostPort };
}

const cutoverStep: Step = {
  id: 'cutover',
  name: 'cutover: stop the Compose stack',
  when: (c) => Boolean(c.opts.cutover) && c.composeRunning,
  done: async (c) => (await c.edges.containers(c.stack.project)).length === 0,
  run: async (c) => {
    await c.edges.down(c.stack);
    return 'Compose containers removed; volumes kept';
  },
};

/**
 * On a cluster stackport did not make: the API and its version, every permission, the namespace and
 * storage, checked right after the manifests are rendered: before any image is built or pushed and
 * before the first object is applied (src/cluster/providers/preflight.ts). The pull from the
 * registry needs a pushed image: `check-pull`, after the push and still before the apply.
 */
const accessStep: Step = {
  id: 'check-cluster',
  name: 'check the cluster (access, storage, registry)',
  when: (c) => c.provider instanceof KubeconfigProvider,
  run: async (c) => {
    const kinds = [...renderedObjects(c.rendered)].map((k) => k.split('/')[0]!);
    const needsStorage = /volumeClaimTemplates:|kind: PersistentVolumeClaim/.test(c.rendered);
    const r = await clusterPreflight(c.kubectl!, { namespace: c.namespace, kinds, storageClass: c.opts.storageClass, needsStorage, data: c.composeRunning && !c.opts.noData });
    assertPreflight(r, `${(c.provider as KubeconfigProvider).source} (namespace ${c.namespace})`);
    c.namespaceExists = r.namespaceExists;
    for (const n of r.notes) c.notes.push(n);
    return `${r.checked} permissions allowed (SelfSubjectAccessReview), namespace ${c.namespace} ${r.namespaceExists ? 'exists' : 'will be created'}, storage ${r.storageClass ?? 'not needed'}`;
  },
};

/**
 * The last preflight check, once an image is in the registry: a short pod on a node pulls one of
 * the pushed images (the smallest). The namespace is created first when it is missing: the access
 * review said these credentials may, and the apply that follows would.
 */
const pullStep: Step = {
  id: 'check-pull',
  name: 'check that the nodes pull from the registry',
  when: (c) => c.provider instanceof KubeconfigProvider,
  run: async (c) => {
    const image = await smallestPinned(c);
    if (!image) return 'no image goes through a registry: nothing to pull';
    if (!c.namespaceExists) {
      await c.kubectl!.run(['create', 'namespace', c.namespace]);
      c.namespaceExists = true;
    }
    const problem = await pullTest(c.kubectl!, c.namespace, image, 300_000);
    if (problem) {
      throw new StackportError(`preflight of ${(c.provider as KubeconfigProvider).source} (namespace ${c.namespace}): ${problem}; no object was applied`, { hint: 'fix the registry or the nodes\' access to it, then run again', exitCode: 2 });
    }
    return `a node pulled ${image} from the registry`;
  },
};

/** The ConfigMap that records a finished migration in the cluster (next to the data moves' stackport-migration). */
export const RECORD_CONFIGMAP = 'stackport-migrated';

function recordOf(c: Ctx): Record<string, string> {
  const sum = createHash('sha256').update(readFileSync(path.join(c.workDir, 'applied.yaml'))).digest('hex');
  return {
    project: c.stack.project,
    'applied-sha256': sum,
    images: Object.entries(c.imageIds).map(([ref, id]) => `${ref}@${id}`).sort().join('\n'),
    data: c.composeRunning && !c.opts.noData ? 'moved' : 'not moved',
  };
}

/**
 * The migration's record in the cluster: what was applied (its sha256), the images by ID and
 * whether data moved, written once the smoke suite passed. Done when the cluster's record says
 * the same; `migrated-at` is when it was first true.
 */
const recordStep: Step = {
  id: 'record',
  name: 'record the migration',
  done: async (c) => {
    const cm = await c.kubectl!.json<{ data?: Record<string, string> }>(['get', 'configmap', RECORD_CONFIGMAP, '-n', c.namespace]);
    const want = recordOf(c);
    return Object.entries(want).every(([k, v]) => cm.data?.[k] === v);
  },
  run: async (c) => {
    const data: Record<string, string> = { ...recordOf(c), 'migrated-at': new Date().toISOString() };
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: RECORD_CONFIGMAP, namespace: c.namespace, labels: { 'app.kubernetes.io/managed-by': 'stackport-migrate', 'app.kubernetes.io/instance': c.stack.project } },
      data,
    };
    await c.kubectl!.run(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', '-'], { input: JSON.stringify(cm), what: `kubectl apply configmap/${RECORD_CONFIGMAP}` });
    return `configmap/${RECORD_CONFIGMAP}: applied ${data['applied-sha256']!.slice(0, 12)}, data ${data.data}`;
  },
  undo: async (c) => {
    await c.kubectl!.run(['delete', 'configmap', RECORD_CONFIGMAP, '-n', c.namespace, '--ignore-not-found']);
  },
};

/** Before the data moves (known once the manifests are rendered). */
export const FIRST_STEPS: Step[] = [preflight, generateStep];
/** After the data moves. */
const LAST_STEPS: Step[] = [smokeStep, recordStep, cutoverStep];
const MIDDLE_STEPS: Step[] = [accessStep, buildStep, deliverStep, pullStep, applyStep, rolloutStep];
/** Every action name in order, the data moves standing as `data-*` (the CLI's help, the tests). */
export const ACTION_NAMES = [...FIRST_STEPS, ...MIDDLE_STEPS, { id: 'data-*' }, restartAfterCopies, ...LAST_STEPS].map((s) => s.id);

// ---------------------------------------------------------------- runner

export async function migrate(opts: MigrateOptions): Promise<StepReport[]> {
  const env = opts.env ?? process.env;
  // --dry-run changes nothing: no engine bootstrap, no build, no .env, and its scratch files
  // (generated manifests, the diff's input) in a temporary directory removed at the end
  const stack = await prepareStack({ root: opts.root, progress: opts.progress, env, composeFile: opts.composeFile, readOnly: opts.dryRun });
  const provider = await detect({ root: opts.root }, opts.provider ?? (opts.remote ? 'kubeconfig' : undefined), { remote: opts.remote });
  const registry = configuredRegistry(opts.registry, env) ?? (provider instanceof KubeconfigProvider ? provider.registry : undefined);
  const workDir = opts.dryRun ? mkdtempSync(path.join(tmpdir(), 'stackport-dry-run-')) : path.join(stack.stateDir, 'migrate');
  if (!opts.dryRun) mkdirSync(workDir, { recursive: true });
  const c = newMigrateContext({
    opts,
    stack,
    provider,
    target: provider.name === 'kind' ? 'kind' : 'kubeadm',
    namespace: provider instanceof KubeconfigProvider ? await provider.namespace() : stack.demo ? 'default' : stack.project,
    workDir,
    registry,
    cmd: opts.cmd ?? hostCmder,
    progress: opts.progress,
    edges: hostEdges,
  });
  if (opts.dryRun) {
    try {
      return await dryRun(c);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  return runMigration(c);
}

/** The hint of every migrate failure: what the user's data looks like now. */
export const LEFT_RUNNING = 'The Compose stack was left running and its data untouched; fix the cause and run migrate again (it continues).';

/**
 * The migration as actions on the runner (src/exec/actions.ts): preflight and generate first,
 * then the list they make known (build, deliver, apply, rollout, one action per data move, smoke,
 * record, cutover). Every action's done-check looks at the real thing, so a re-run after a
 * failure anywhere skips what is finished and ends with a finished migration.
 */
export async function runMigration(c: Ctx): Promise<StepReport[]> {
  const started = Date.now();
  const options = {
    what: 'migrate',
    env: c.opts.env ?? process.env,
    hint: (cause: unknown) => {
      const h = (cause as StackportError)?.hint;
      return `${h ? `${h}. ` : ''}${LEFT_RUNNING}`;
    },
  };
  const listed: Step[] = [];
  const outcomes: ActionOutcome[] = [];
  const runList = async (steps: Step[]) => {
    const active = steps.filter((s) => !s.when || s.when(c));
    listed.push(...active);
    try {
      outcomes.push(...(await runActions(active.map(toAction), c, options)));
    } catch (e) {
      if (e instanceof ActionError) outcomes.push(...e.outcomes);
      throw e;
    }
  };
  await runList(FIRST_STEPS);
  const data = await dataSteps(c).catch((e: Error) => {
    throw new StackportError(`migrate failed listing the data moves: ${e.message}`, { cause: e, details: (e as StackportError).details, hint: LEFT_RUNNING });
  });
  await runList([...MIDDLE_STEPS, ...data, ...LAST_STEPS]);
  const reports = stepReports(listed, outcomes, c.details);
  const moved = data.map((d) => c.details.get(d.id)).filter(Boolean);
  if (moved.length) c.opts.out.write(`data moved:\n${moved.map((p) => `  ${p}`).join('\n')}\n`);
  c.opts.out.write(`\n${formatReport(reports, c, Date.now() - started)}\n`);
  return reports;
}

/** One report line per action, the data moves joined in one "move data" line. */
export function stepReports(steps: Pick<Step, 'id' | 'name' | 'group'>[], outcomes: ActionOutcome[], details: Map<string, string>): StepReport[] {
  const reports: StepReport[] = [];
  for (const step of steps) {
    const o = outcomes.find((x) => x.name === step.id);
    if (!o || (o.state !== 'ran' && o.state !== 'done-before')) continue;
    const detail = o.state === 'done-before' ? 'already done' : (details.get(step.id) ?? '');
    const name = step.group ?? step.name;
    const same = reports.find((r) => r.name === name);
    if (same) {
      same.ms += o.ms;
      same.detail = `${same.detail}; ${detail}`;
    } else reports.push({ name, ms: o.ms, detail });
  }
  return reports;
}

export function formatReport(reports: StepReport[], c: Pick<Ctx, 'provider' | 'rollout' | 'notes'> & { entryUrl?: string; namespace?: string }, totalMs: number): string {
  const width = Math.max(...reports.map((r) => r.name.length));
  const lines = ['migration report:', ...reports.map((r) => `  ${r.name.padEnd(width)}  ${formatMs(r.ms).padStart(9)}  ${r.detail}`)];
  lines.push(`  ${'total'.padEnd(width)}  ${formatMs(totalMs).padStart(9)}`);
  if (c.rollout.length) lines.push(`resources ready: ${c.rollout.map((w) => `${w.kind.toLowerCase()}/${w.name} ${w.ready}/${w.desired}`).join(', ')}`);
  for (const n of c.notes) lines.push(`note: ${n}`);
  const reached = c.entryUrl ?? c.provider.entry();
  lines.push(reached ? `the app now answers on the cluster: ${reached} (provider ${c.provider.name}${c.namespace && c.namespace !== 'default' ? `, namespace ${c.namespace}` : ''})` : `the app runs on the cluster (provider ${c.provider.name}); reach it with kubectl port-forward, or an Ingress/LoadBalancer address (--entry-url)`);
  return lines.join('\n');
}

async function dryRun(c: Ctx): Promise<StepReport[]> {
  const out = c.opts.out;
  const pre = await preflight.run(c, () => undefined);
  out.write(`plan (dry run, nothing is changed):\n  preflight: ${pre}\n`);
  for (const step of [...FIRST_STEPS.slice(1), ...MIDDLE_STEPS, { id: 'data-*', name: 'move data', when: (x: Ctx) => x.composeRunning && !x.opts.noData }, ...LAST_STEPS]) out.write(`  - ${step.name}${step.when && !step.when(c) ? ' (skipped)' : ''}\n`);
  if (!c.kubectl) {
    out.write('no server-side diff: the cluster does not exist yet\n');
    return [];
  }
  await generateStep.run(c, () => undefined);
  out.write(`images to deliver: ${c.images.join(', ')}\n`);
  await readImageIds(c);
  const r = await probe([c.kubectl.binary, '--kubeconfig', c.kubectl.kubeconfig, 'diff', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', applied(c)]);
  if (r.exitCode === 0) out.write('server-side diff: the cluster already matches\n');
  else if (r.exitCode === 1) out.write(`server-side diff:\n${r.stdout}\n`);
  else throw new StackportError('kubectl diff failed', { details: r.stderr });
  return [];
}


/** The staged tree for a cluster that is not local: the base (no NodePort entry), in the namespace. */
export function remoteKustomization(stageDir: string, namespace: string): void {
  const file = path.join(stageDir, 'kustomization.yaml');
  const text = readFileSync(file, 'utf8').replace(/^resources:\n(?:\s+- .*\n)+/m, `namespace: ${namespace}\nresources:\n  - base\n`);
  writeFileSync(file, text);
  // The namespace is the cluster owner's: it exists or apply creates it (the preflight checked which);
  // a namespace-scoped identity may not patch the Namespace object itself.
  const base = path.join(stageDir, 'base', 'kustomization.yaml');
  if (existsSync(base)) writeFileSync(base, readFileSync(base, 'utf8').replace(/^\s+- namespace\.yaml\n/m, ''));
}

/** The local registry, wired into the local cluster's nodes (hosts.toml, KEP-1755 ConfigMap). */
async function wireLocal(c: Ctx): Promise<void> {
  if (c.provider.name === 'kind') {
    const { KindProvider } = await import('../cluster/providers/kind.js');
    await wireKind(await (c.provider as InstanceType<typeof KindProvider>).containers(false), c.kubectl!);
  } else await wireKubeadm(c.kubectl!);
}

/** A port-forward to the entry Service on a cluster that is not local (unless --entry-url). */
async function openEntry(c: Ctx): Promise<PortForward | undefined> {
  if (!(c.provider instanceof KubeconfigProvider) || c.provider.options.entryUrl) return undefined;
  if (!c.entry) throw new StackportError('the app has no entry service (a service that publishes a port) to reach the smoke suite through', { hint: 'name one with --entry-url' });
  return new PortForward(c.kubectl!, { namespace: c.namespace, target: `service/${c.entry.service}`, remotePort: c.entry.port }).start();
}

/** The pushed image with the fewest bytes: the pull test pulls it (and the app needs it anyway). */
async function smallestPinned(c: Ctx): Promise<string | undefined> {
  const sized: [number, string][] = [];
  for (const [image, ref] of Object.entries(c.pinned)) {
    const r = await probe(['docker', 'image', 'inspect', '--format', '{{.Size}}', image]);
    sized.push([Number(r.stdout.trim()) || Infinity, ref]);
  }
  return sized.sort((a, b) => a[0] - b[0])[0]?.[1];
}
