/**
 * The migration: a list of named steps, each idempotent (a re-run after a failure or Ctrl-C
 * continues), each timed. A failure names its step, keeps the failing command's output, and
 * leaves the Compose stack running and its data untouched; only `--cutover`, after the smoke
 * suite passed on the cluster, stops the Compose stack.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import type { Progress } from '../ui/progress.js';
import { formatMs } from '../ui/progress.js';
import { detect } from '../cluster/provider.js';
import type { ClusterProvider } from '../cluster/provider.js';
import type { Kubectl } from '../cluster/kubectl.js';
import { buildChanged, down, prepareStack, type Stack } from '../stack/stack.js';
import { projectContainers, serviceState } from '../stack/containers.js';
import { markerFile } from '../stack/commands.js';
import { generate } from '../k8s/generate.js';
import { stageManifests } from '../k8s/stage.js';
import { DEFAULT_OPTIONS, type TransformOptions } from '../k8s/transform.js';
import { schemaValidator } from '../k8s/validate.js';
import type { Target } from '../k8s/emit.js';
import { assertSmokePassed, copyRecord, formatResults, runSmoke, type CheckResult } from '../smoke/smoke.js';
import { imagesOf, kubectlFor } from './kube.js';
import { dataServices, type DataService } from './data-services.js';
import { stampImageIds } from './image-stamp.js';
import { workloadsIn, type RenderedWorkload } from './rendered.js';
import { imageId } from '../engine/images.js';
import { waitRollout, type WorkloadStatus } from './rollout.js';
import { copyPostgres, type CopyResult } from './data-postgres.js';
import { moveBroker, type BrokerResult } from './data-rabbitmq.js';

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
  composeFile?: string;
  rolloutTimeoutMs?: number;
}

interface Ctx {
  opts: MigrateOptions;
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
}

export interface StepReport {
  name: string;
  ms: number;
  detail: string;
}

interface Step {
  name: string;
  when?: (c: Ctx) => boolean;
  run: (c: Ctx, update: (d: string) => void) => Promise<string>;
}

// ---------------------------------------------------------------- steps

const preflight: Step = {
  name: 'preflight',
  run: async (c) => {
    const containers = await projectContainers(c.stack.project);
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
    c.kubectl = await kubectlFor(c.provider);
    const nodes = await c.provider.nodes();
    return `Compose ${c.composeRunning ? 'healthy' : 'stopped'}; cluster ${c.provider.name}: ${nodes.filter((n) => n.ready).length}/${nodes.length} node(s) Ready`;
  },
};

const generateStep: Step = {
  name: 'generate manifests',
  run: async (c) => {
    const load = { file: c.stack.composeFile, envFile: c.stack.envFile, projectName: c.stack.project, displayBase: c.opts.root };
    const transform: TransformOptions = { ...DEFAULT_OPTIONS, displayBase: c.opts.root };
    const out = path.join(c.workDir, 'manifests');
    rmSync(out, { recursive: true, force: true });
    const result = generate({ load: { ...load, envFile: undefined }, transform, out, target: c.target, validate: await schemaValidator() });
    rmSync(c.stageDir, { recursive: true, force: true });
    const staged = stageManifests({ manifests: out, dir: c.stageDir, load, transform, target: c.target });
    c.rendered = (await c.kubectl!.run(['kustomize', c.stageDir], { what: 'kubectl kustomize' })).stdout;
    c.workloads = workloadsIn(c.rendered);
    c.images = imagesOf(c.workloads);
    for (const w of result.warnings) c.notes.push(`generator: ${w.message}`);
    return `${result.objectCount} objects for ${result.manifests.app.services.length} services, ${staged.secrets.length} secret file(s), ${staged.images.length} image override(s) (${c.target} overlay)`;
  },
};

const buildStep: Step = {
  name: 'build images',
  run: async (c) => {
    const built = await buildChanged(c.stack);
    return built.length ? `built ${built.join(', ')}` : 'up to date';
  },
};

/** Fills c.imageIds from the engine; returns the images it does not have. */
async function readImageIds(c: Ctx): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of c.images) {
    const id = await imageId(ref);
    if (id) c.imageIds[ref] = id;
    else missing.push(ref);
  }
  return missing;
}

const deliverStep: Step = {
  name: 'deliver images',
  run: async (c) => {
    const missing = await readImageIds(c);
    if (missing.length) {
      throw new StackportError(`image(s) not in the Docker engine, so they cannot be delivered: ${missing.join(', ')}`, { hint: 'run `make up` first (it builds and tags them)' });
    }
    // the provider compares engine image IDs with what the nodes have, and loads only the rest
    const loaded = await c.provider.loadImages(c.images, { progress: c.opts.progress });
    return loaded.length ? `loaded ${loaded.join(', ')}` : `all ${c.images.length} image(s) already in the cluster`;
  },
};

/** The stream apply sends: the rendered manifests, pod templates stamped with image IDs. */
function applied(c: Ctx): string {
  const file = path.join(c.workDir, 'applied.yaml');
  writeFileSync(file, stampImageIds(c.rendered, c.imageIds));
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

const applyStep: Step = {
  name: 'apply',
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
    const r = await c.kubectl!.run(applyArgs(c, []), { what: 'kubectl apply --server-side' });
    const applied = r.stdout.split('\n').filter(Boolean);
    const wanted = renderedObjects(c.rendered);
    type Item = { kind: string; metadata: { name: string } };
    const existing = await c.kubectl!.json<{ items: Item[] }>(['get', PRUNE_KINDS.join(','), '-n', c.namespace, '-l', MANAGED]);
    const stale = existing.items.map((i) => `${i.kind}/${i.metadata.name}`).filter((k) => !wanted.has(k));
    if (stale.length) await c.kubectl!.run(['delete', '-n', c.namespace, '--wait=false', ...stale.map((k) => k.toLowerCase())]);
    return `${applied.length} object(s) applied (field manager ${FIELD_MANAGER})${stale.length ? `, pruned ${stale.join(', ')}` : ''}`;
  },
};

const rolloutStep: Step = {
  name: 'wait for rollout',
  run: async (c, update) => {
    c.rollout = await waitRollout(c.kubectl!, c.namespace, MANAGED, c.opts.rolloutTimeoutMs ?? 300_000, update);
    return c.rollout.map((w) => `${w.name} ${w.ready}/${w.desired}`).join(', ');
  },
};

const dataStep: Step = {
  name: 'move data',
  when: (c) => c.composeRunning && !c.opts.noData,
  run: async (c) => {
    const parts: string[] = [];
    const found = dataServices(c.workloads, c.stack.config.services);
    for (const d of found.filter((x) => x.engine === 'postgres')) {
      const pod = await dataPod(c, d);
      c.postgres = await copyPostgres(c.stack, d.service, { kubectl: c.kubectl!, namespace: c.namespace, pod, container: d.container }, { force: c.opts.forceData });
      if (c.postgres.action === 'copied') copyRecord(markerFile(c.stack.stateDir, c.stack.project), 'compose', 'k8s');
      const counts = Object.entries(c.postgres.counts).map(([t, n]) => `${t}=${n}`).join(' ');
      parts.push(c.postgres.action === 'copied' ? `PostgreSQL ${d.service} copied (${c.postgres.bytes} bytes; rows ${counts}, same as Compose)` : `PostgreSQL ${d.service} unchanged since the last copy (rows ${counts})`);
    }
    for (const d of found.filter((x) => x.engine === 'rabbitmq')) {
      const pod = await dataPod(c, d);
      c.broker = await moveBroker(c.stack, d.service, { kubectl: c.kubectl!, namespace: c.namespace, pod, container: d.container });
      const b = c.broker;
      parts.push(`RabbitMQ ${d.service} definitions imported (${b.queues} queue(s), ${b.exchanges} exchange(s), ${b.bindings} binding(s)); ` +
        (b.leftBehind.length ? `left in Compose: ${b.leftBehind.map((q) => `${q.name}=${q.messages}`).join(', ')}` : b.drained.length ? `drained ${b.drained.map((q) => `${q.name}=${q.messages}`).join(', ')} before the move` : 'no messages were queued'));
    }
    if (found.length === 0) parts.push('no PostgreSQL or RabbitMQ service: no data to move');
    return parts.join('; ');
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
  name: 'smoke test on the cluster',
  run: async (c) => {
    const target = { name: 'k8s', baseUrl: c.provider.entry(), markerFile: markerFile(c.stack.stateDir, c.stack.project) };
    c.smoke = await runSmoke(target);
    c.opts.out.write(`${formatResults(target, c.smoke)}\n`);
    assertSmokePassed(target, c.smoke);
    return `${c.smoke.length} checks passed at ${target.baseUrl}`;
  },
};

const cutoverStep: Step = {
  name: 'cutover: stop the Compose stack',
  when: (c) => Boolean(c.opts.cutover) && c.composeRunning,
  run: async (c) => {
    await down(c.stack);
    return 'Compose containers removed; volumes kept';
  },
};

export const STEPS: Step[] = [preflight, generateStep, buildStep, deliverStep, applyStep, rolloutStep, dataStep, smokeStep, cutoverStep];

// ---------------------------------------------------------------- runner

export async function migrate(opts: MigrateOptions): Promise<StepReport[]> {
  const env = opts.env ?? process.env;
  const stack = await prepareStack({ root: opts.root, progress: opts.progress, env, composeFile: opts.composeFile });
  const provider = await detect({ root: opts.root }, opts.provider);
  const workDir = path.join(stack.stateDir, 'migrate');
  mkdirSync(workDir, { recursive: true });
  const c: Ctx = {
    opts,
    stack,
    composeRunning: false,
    provider,
    target: provider.name === 'kind' ? 'kind' : 'kubeadm',
    namespace: 'default',
    workDir,
    stageDir: path.join(workDir, 'staged'),
    rendered: '',
    workloads: [],
    images: [],
    imageIds: {},
    rollout: [],
    smoke: [],
    notes: [],
  };
  if (opts.dryRun) return dryRun(c);

  const reports: StepReport[] = [];
  const started = Date.now();
  for (const step of STEPS) {
    if (step.when && !step.when(c)) continue;
    const t0 = Date.now();
    let detail: string;
    try {
      detail = await opts.progress.step(step.name, (update) => step.run(c, update));
    } catch (err) {
      const e = err instanceof StackportError ? err : new StackportError((err as Error).message, { cause: err });
      throw new StackportError(`migrate failed at step "${step.name}": ${e.message}`, {
        details: e.details,
        hint: `${e.hint ? `${e.hint}. ` : ''}The Compose stack was left running and its data untouched; fix the cause and run migrate again (it continues).`,
        cause: err,
        exitCode: e.exitCode,
      });
    }
    reports.push({ name: step.name, ms: Date.now() - t0, detail });
  }
  opts.out.write(`\n${formatReport(reports, c, Date.now() - started)}\n`);
  return reports;
}

export function formatReport(reports: StepReport[], c: Pick<Ctx, 'provider' | 'rollout' | 'notes'>, totalMs: number): string {
  const width = Math.max(...reports.map((r) => r.name.length));
  const lines = ['migration report:', ...reports.map((r) => `  ${r.name.padEnd(width)}  ${formatMs(r.ms).padStart(9)}  ${r.detail}`)];
  lines.push(`  ${'total'.padEnd(width)}  ${formatMs(totalMs).padStart(9)}`);
  if (c.rollout.length) lines.push(`resources ready: ${c.rollout.map((w) => `${w.kind.toLowerCase()}/${w.name} ${w.ready}/${w.desired}`).join(', ')}`);
  for (const n of c.notes) lines.push(`note: ${n}`);
  lines.push(`the app now answers on the cluster: ${c.provider.entry()} (provider ${c.provider.name})`);
  return lines.join('\n');
}

async function dryRun(c: Ctx): Promise<StepReport[]> {
  const out = c.opts.out;
  const pre = await preflight.run(c, () => undefined);
  out.write(`plan (dry run, nothing is changed):\n  preflight: ${pre}\n`);
  for (const step of STEPS.slice(1)) out.write(`  - ${step.name}${step.when && !step.when(c) ? ' (skipped)' : ''}\n`);
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

