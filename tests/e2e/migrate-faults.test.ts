/**
 * Issue 13 §2 on the real kubeadm cluster: the migration fails at action N (STACKPORT_FAIL_ACTION,
 * read by the action runner), in turn for every migrate action; each time the error names the
 * action, the Compose stack is still healthy, and a plain re-run finishes the migration (smoke
 * suite green on the cluster, the record written). The data actions run with data (seeded
 * rows); the others with --no-data, which keeps each run short.
 * Runs under the cluster lock: flock /work/cluster.lock npx jest --selectProjects e2e -- tests/e2e/migrate-faults.test.ts
 */
import path from 'node:path';
import { execIn, removeProject, type Stack } from '../../src/stack/stack.js';
import { projectContainers, serviceState } from '../../src/stack/containers.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { runScript } from '../integration/helpers.js';
import { APP_KINDS, APP_SELECTOR, RECORD_CONFIGMAP } from '../../src/migrate/migrate.js';
import { detect } from '../../src/cluster/providers/detect.js';
import type { ClusterProvider } from '../../src/cluster/providers/provider.js';
import { kubectlFor } from '../../src/migrate/kube.js';
import type { Kubectl } from '../../src/cluster/kubectl.js';
import { freshStack } from './fresh-stack.js';

jest.setTimeout(900_000);

const root = path.resolve(__dirname, '..', '..');
const project = 'runner-faults';
const WEB_PORT = '18580';
const env = { ...process.env, STACKPORT_PROJECT: project, WEB_PORT, STACKPORT_PROVIDER: 'kubeadm' };
const progress = new SilentProgress();
const log = (line: string) => process.stderr.write(`[migrate faults] ${line}\n`);
const COUNT_SQL = 'SELECT count(*) FROM messages';
const SEEDED = 5;

let stack: Stack;
let provider: ClusterProvider;
let kubectl: Kubectl;

async function migrate(args: string[], fail?: string) {
  const t0 = Date.now();
  const r = await runScript('migrate.mjs', ['--provider', 'kubeadm', ...args], { ...env, ...(fail ? { STACKPORT_FAIL_ACTION: fail } : {}) }, 600_000);
  log(`migrate ${args.join(' ')}${fail ? ` (fail ${fail})` : ''} -> ${r.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

async function finished(args: string[]): Promise<string> {
  const r = await migrate(args);
  if (r.code !== 0) throw new Error(`the re-run did not finish (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
  expect(r.stdout).toMatch(/smoke k8s: \d+ passed, 0 failed/);
  expect(r.stdout).toContain('the app now answers on the cluster');
  return r.stdout;
}

async function failsAt(action: string, args: string[]): Promise<void> {
  const r = await migrate(args, action);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`migrate failed at action ${action}: injected failure (STACKPORT_FAIL_ACTION=${action})`);
  expect(r.stderr).toContain('The Compose stack was left running');
  expect(r.stderr).not.toMatch(/^\s+at .*\.ts:\d+/m);
  // nothing lost: every Compose service still healthy (or running, without a health check)
  const containers = await projectContainers(project);
  const states = stack.config.services.map((s) => `${s.name}:${serviceState(containers, s.name, s.hasHealthcheck)}`);
  expect(states.filter((s) => !/:(healthy|running)$/.test(s))).toEqual([]);
}

const rows = async (where: 'compose' | 'cluster') => {
  const sql = `psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "${COUNT_SQL}"`;
  if (where === 'compose') return Number((await execIn(stack, 'db', ['sh', '-c', sql])).trim());
  return Number((await kubectl.run(['exec', 'db-0', '-c', 'db', '--', 'sh', '-c', sql])).stdout.trim());
};

const recordOnCluster = async () => (await kubectl.json<{ data: Record<string, string> }>(['get', 'configmap', RECORD_CONFIGMAP])).data;

beforeAll(async () => {
  stack = await freshStack(root, project, env, progress);
  for (let i = 0; i < SEEDED; i++) {
    const r = await fetch(`http://127.0.0.1:${WEB_PORT}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `seeded ${i}` }) });
    expect(r.ok).toBe(true);
  }
  // kind and kubeadm both want 127.0.0.1:8090: a kind cluster left by another test goes first
  const kind = await detect({ root }, 'kind').catch(() => undefined);
  if (kind && (await kind.status()).state !== 'absent') await kind.delete({ progress });
  provider = await detect({ root }, 'kubeadm');
  await provider.create({ progress });
  kubectl = await kubectlFor(provider);
  // a clean default namespace: no app, no claims, no records of an earlier migration
  await kubectl.run(['delete', APP_KINDS, '-l', APP_SELECTOR, '--wait=true', '--timeout=180s']);
});

afterAll(async () => {
  if (kubectl) await kubectl.run(['delete', APP_KINDS, '-l', APP_SELECTOR, '--wait=false']).catch(() => undefined);
  if (stack) await removeProject(project, progress, { volumes: true });
});

test('the broker move fails after the database moved; the re-run skips the database and finishes', async () => {
  // data-postgres-db runs (the rows are copied and recorded), then data-rabbitmq-broker fails
  await failsAt('data-rabbitmq-broker', []);
  const out = await finished([]);
  expect(out).toMatch(/PostgreSQL db unchanged since the last copy/);
  expect(out).toMatch(/RabbitMQ broker: definitions imported/);
  const composeRows = await rows('compose');
  expect(composeRows).toBeGreaterThanOrEqual(SEEDED);
  // every Compose row, plus the one each smoke run on the cluster posted (one run finished)
  expect(await rows('cluster')).toBe(composeRows + 1);
  expect((await recordOnCluster())['data']).toBe('moved');
});

const NO_DATA_ACTIONS = ['preflight', 'generate', 'build-images', 'deliver-images', 'apply', 'rollout', 'smoke', 'record'];

test.each(NO_DATA_ACTIONS)('--no-data: fails at %s, and a re-run finishes the migration', async (action) => {
  if (action === 'apply') {
    // make the re-run's apply and rollout real work: the web Deployment is gone
    await kubectl.run(['delete', 'deployment', 'web', '--wait=true']);
  }
  if (action === 'record') await kubectl.run(['delete', 'configmap', RECORD_CONFIGMAP]);
  await failsAt(action, ['--no-data']);
  const out = await finished(['--no-data']);
  if (action === 'apply') {
    expect(out).toMatch(/^\s+apply\s+.*object\(s\) applied/m);
    expect(out).toMatch(/^\s+wait for rollout\s+.*\bweb (\d+)\/\1\b/m);
  }
  const record = await recordOnCluster();
  expect(record['project']).toBe(project);
  expect(record['data']).toBe('not moved');
});
