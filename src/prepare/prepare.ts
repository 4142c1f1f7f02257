/**
 * The cold builds the integration and e2e tests need, as a phase of their own before jest
 * (scripts/test.mjs runs scripts/prepare.mjs): the Docker engine, Compose v2, the Debian base and
 * drop-in images, the cluster's host packages, binaries and images, metrics-server, the policy
 * engine and the kind node image. Each step calls the library's own build function (cached: a
 * warm step does nothing and says so), shows progress with its elapsed time and has a time budget
 * of its own, so a cold build on a brand-new machine never runs inside a test hook's timeout:
 * the tests' beforeAll hooks then only start or reuse what is built.
 */
import path from 'node:path';
import { StackportError } from '../errors.js';
import { cacheRoot } from '../engine/cache.js';
import { findCompose } from '../engine/compose-cli.js';
import { ensureEngine, isRoot } from '../engine/engine.js';
import { chooseImageSource, ensureAllDropIns } from '../engine/images.js';
import { formatMs, type Progress } from '../ui/progress.js';

export type TestProject = 'unit' | 'golden' | 'integration' | 'e2e';

export interface PrepareStep {
  name: string;
  /** the jest projects that need it */
  for: TestProject[];
  /** minutes; a cold build measured on a brand-new 2-core machine fits with room (README figures) */
  budgetMin: number;
  /** false: the step does not apply here (and why) */
  applies?: () => string | undefined;
  run: (ctx: PrepareContext) => Promise<unknown>;
}

export interface PrepareContext {
  root: string;
  progress: Progress;
  env: NodeJS.ProcessEnv;
}

const needsRoot = () => (isRoot() ? undefined : 'not root: the cluster tests cannot run here');

export const PREPARE_STEPS: PrepareStep[] = [
  {
    name: 'Docker engine',
    for: ['integration', 'e2e'],
    budgetMin: 15,
    run: (c) => ensureEngine({ progress: c.progress, logDir: path.join(c.root, '.stackport', 'logs') }),
  },
  {
    name: 'Compose',
    for: ['integration', 'e2e'],
    budgetMin: 25,
    run: (c) => findCompose({ requested: c.env.STACKPORT_COMPOSE, cacheDir: cacheRoot(c.env), progress: c.progress }),
  },
  {
    name: 'base and drop-in images',
    for: ['integration', 'e2e'],
    budgetMin: 30,
    run: async (c) => {
      const choice = await chooseImageSource({ requested: c.env.STACKPORT_IMAGES, progress: c.progress });
      if (choice.source === 'debian') await ensureAllDropIns(c.root, cacheRoot(c.env), c.progress);
    },
  },
  {
    name: 'cluster host packages',
    for: ['e2e'],
    budgetMin: 15,
    applies: needsRoot,
    run: async (c) => (await import('../cluster/host/packages.js')).ensureHostPackages(c.progress),
  },
  {
    name: 'cluster binaries and images (kubeadm)',
    for: ['e2e'],
    budgetMin: 100,
    applies: needsRoot,
    run: async (c) => (await import('../cluster/build/cluster-build.js')).buildCluster(c.progress),
  },
  {
    name: 'metrics-server image',
    for: ['e2e'],
    budgetMin: 20,
    applies: needsRoot,
    run: async (c) => (await import('../cluster/addons/metrics-server.js')).buildMetricsServerImage(c.progress),
  },
  {
    name: 'policy engine image (kube-router)',
    for: ['e2e'],
    budgetMin: 30,
    applies: needsRoot,
    run: async (c) => (await import('../cluster/addons/policy-engine.js')).buildPolicyEngineImage(c.progress),
  },
  {
    name: 'kind CLI and node image',
    for: ['e2e'],
    budgetMin: 40,
    applies: () => needsRoot() ?? (process.env.STACKPORT_PREPARE_KIND === '0' ? 'STACKPORT_PREPARE_KIND=0' : undefined),
    run: async (c) => new (await import('../cluster/providers/kind.js')).KindProvider({ root: c.root }).build(c.progress),
  },
];

export interface PreparedStep {
  name: string;
  ms: number;
  /** nothing was built: every part was cached */
  cached: boolean;
  skipped?: string;
}

/** Runs a promise against a budget; the work is not cancelled (the caller ends its process group). */
export async function withinBudget<T>(name: string, budgetMin: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StackportError(`prepare step "${name}" went over its budget of ${budgetMin} min`, {
            hint: 'a cold build on a loaded machine: run `make prepare` again (it continues from its cache), or raise STACKPORT_PREPARE_BUDGET_SCALE',
          }),
        ),
      budgetMin * 60_000,
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The steps the given jest projects need (all projects: every step), in order. */
export function stepsFor(projects: TestProject[]): PrepareStep[] {
  const want = projects.length ? projects : (['unit', 'golden', 'integration', 'e2e'] as TestProject[]);
  return PREPARE_STEPS.filter((s) => s.for.some((p) => want.includes(p)));
}

export async function prepare(ctx: PrepareContext, projects: TestProject[], only?: string[]): Promise<PreparedStep[]> {
  const scale = Number(ctx.env.STACKPORT_PREPARE_BUDGET_SCALE ?? '1') || 1;
  const done: PreparedStep[] = [];
  for (const step of stepsFor(projects)) {
    if (only?.length && !only.some((o) => step.name.toLowerCase().includes(o.toLowerCase()))) continue;
    const skipped = step.applies?.();
    if (skipped) {
      ctx.progress.info(`prepare: ${step.name}: skipped (${skipped})`);
      done.push({ name: step.name, ms: 0, cached: true, skipped });
      continue;
    }
    const inner = ctx.progress.timings.length;
    const started = Date.now();
    await ctx.progress.step(`prepare: ${step.name} (budget ${Math.round(step.budgetMin * scale)} min)`, () => withinBudget(step.name, step.budgetMin * scale, step.run(ctx)));
    // the library's build functions report each piece they build as a step of their own
    const cached = ctx.progress.timings.length === inner + 1;
    done.push({ name: step.name, ms: Date.now() - started, cached });
  }
  return done;
}

export function formatPrepared(steps: PreparedStep[]): string {
  const width = Math.max(...steps.map((s) => s.name.length), 10);
  const total = steps.reduce((n, s) => n + s.ms, 0);
  return [
    'prepare (cold builds before the tests):',
    ...steps.map((s) => `  ${s.name.padEnd(width)}  ${s.skipped ? `skipped: ${s.skipped}` : `${formatMs(s.ms).padStart(10)}${s.cached ? '  (cached)' : ''}`}`),
    `  ${'total'.padEnd(width)}  ${formatMs(total).padStart(10)}`,
  ].join('\n');
}
