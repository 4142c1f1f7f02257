/**
 * Issue 6 proofs on kind, run only with STACKPORT_E2E_KIND=1 (about 10 minutes warm; see docs/kind.md):
 *  1. the migration of a running Compose stack onto a kind cluster: smoke suite green, data moved;
 *  2. multi-node: web at 3 replicas spread across two workers; one worker's container is stopped
 *     while a bounded request loop hits 127.0.0.1:8090; the pods are rescheduled, the smoke suite
 *     passes again, and the failed requests and the time to recover are reported.
 * The stateful services (db, broker: one replica each, node-local volumes) are placed on the
 * worker that survives (the other is cordoned during the migration): a single replica on local
 * storage cannot survive the loss of its node in any orchestrator, and this proof is about
 * the stateless tier.
 */
import path from 'node:path';
import { execIn, removeProject, type Stack } from '../../src/stack/stack.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { KubeadmProvider } from '../../src/cluster/kubeadm.js';
import { KIND_CLUSTER_NAME, KindProvider } from '../../src/cluster/kind.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { podsOf, scale, type OpsContext } from '../../src/operate/operate.js';
import { runSmoke } from '../../src/smoke/smoke.js';
import { markerFile } from '../../src/stack/commands.js';
import { startLoop, summarize } from '../../src/load/request-loop.js';
import { run } from '../../src/exec/run.js';
import { waitFor } from '../../src/exec/wait.js';
import { freshStack } from './fresh-stack.js';

const enabled = process.env.STACKPORT_E2E_KIND === '1';
const maybe = enabled ? describe : describe.skip;
jest.setTimeout(1_500_000);

const root = path.resolve(__dirname, '..', '..');
const project = 'stackport-kind-e2e';
const env = { ...process.env, STACKPORT_PROJECT: project, WEB_PORT: '18085', STACKPORT_PROVIDER: 'kind' };
const progress = new SilentProgress();
const log = (line: string) => process.stderr.write(`[kind failover e2e] ${line}\n`);
const SEEDED = 10;
const COUNT_SQL = 'SELECT count(*) FROM messages';
const survivor = `${KIND_CLUSTER_NAME}-worker`;
const victim = `${KIND_CLUSTER_NAME}-worker2`;

let stack: Stack;
const provider = new KindProvider({ root }, { nodes: 3 });
let kubectl: Kubectl;
let ops: OpsContext;


maybe('kind: migrate, then a worker dies under load', () => {
  beforeAll(async () => {
    stack = await freshStack(root, project, env, progress);
    for (let i = 0; i < SEEDED; i++) {
      await fetch('http://127.0.0.1:18085/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `seeded ${i}` }) });
    }
    // a fresh 3-node cluster (the kubeadm cluster holds 127.0.0.1:8090: down first)
    await provider.build(progress);
    await provider.delete({ progress });
    await new KubeadmProvider({ root }).delete({ progress });
    const t = Date.now();
    await provider.create({ progress });
    log(`create (3 nodes, node image cached): ${((Date.now() - t) / 1000).toFixed(1)} s`);
    kubectl = new Kubectl(provider.kubeadmCache.binary('kubectl'), await provider.kubeconfig());
    ops = { kubectl, provider, namespace: 'default', progress };
  });

  afterAll(async () => {
    if (stack) await removeProject(project, progress, { volumes: true });
    await provider.delete({ progress });
  });

  test('three Ready nodes: one control plane, two workers', async () => {
    const nodes = await provider.nodes();
    expect(nodes.map((n) => n.name).sort()).toEqual([`${KIND_CLUSTER_NAME}-control-plane`, survivor, victim]);
    expect(nodes.every((n) => n.ready)).toBe(true);
  });

  test('migrate --provider kind: smoke suite green on the cluster, data moved', async () => {
    await kubectl.run(['cordon', victim]);
    // the user's command, as a process (scripts run the ESM sources under tsx)
    const r = await run(['node', path.join(root, 'scripts', 'migrate.mjs'), '--provider', 'kind'], { cwd: root, env, timeoutMs: 1_200_000 });
    log(r.stdout.trim());
    await kubectl.run(['uncordon', victim]);
    expect(r.stdout).toMatch(/the app now answers on the cluster: http:\/\/127\.0\.0\.1:8090 \(provider kind\)/);
    const composeRows = Number((await execIn(stack, 'db', ['sh', '-c', `psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "${COUNT_SQL}"`])).trim());
    expect(composeRows).toBeGreaterThanOrEqual(SEEDED);
    const clusterRows = Number((await kubectl.run(['exec', 'db-0', '-c', 'db', '--', 'sh', '-c', `psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "${COUNT_SQL}"`])).stdout.trim());
    expect(clusterRows).toBe(composeRows + 1);
  });

  test('a worker dies under load: web is rescheduled, the smoke suite passes again', async () => {
    // spread strictly over the schedulable workers (the generated ScheduleAnyway only prefers it)
    await kubectl.run(['patch', 'deployment', 'web', '--type=json', '-p', JSON.stringify([
      { op: 'replace', path: '/spec/template/spec/topologySpreadConstraints/0/whenUnsatisfiable', value: 'DoNotSchedule' },
      { op: 'add', path: '/spec/template/spec/topologySpreadConstraints/0/nodeTaintsPolicy', value: 'Honor' },
    ])]);
    log(await scale(ops, 'web', 3));
    await kubectl.run(['rollout', 'status', 'deployment/web', '--timeout=240s'], { timeoutMs: 250_000 });
    const before = await podsOf(ops, 'web');
    log(`web before: ${before.map((p) => `${p.name}@${p.node}`).join(' ')}`);
    expect(before.filter((p) => p.ready)).toHaveLength(3);
    expect(new Set(before.map((p) => p.node))).toEqual(new Set([survivor, victim]));
    const stateful = (await kubectl.run(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\\n"}{end}'])).stdout;
    expect(stateful).not.toMatch(new RegExp(`^(db|broker)-0=${victim}$`, 'm'));

    const loop = startLoop({ url: `${provider.entry()}/`, ratePerSecond: 10, maxDurationMs: 300_000, timeoutMs: 2000, expect: 'Hello Docker!' });
    await waitFor('the loop to see the page', async () => loop.records.some((r) => r.ok), 30_000);
    const stoppedAt = loop.now();
    await run(['docker', 'stop', victim], { timeoutMs: 120_000 });
    log(`stopped ${victim} at ${stoppedAt} ms (docker stop took ${loop.now() - stoppedAt} ms)`);
    // rescheduled: three ready web pods, none on the dead node
    await waitFor('web rescheduled off the dead worker', async () => {
      const pods = await podsOf(ops, 'web');
      return pods.filter((p) => p.ready && p.node !== victim).length >= 3;
    }, 300_000);
    const rescheduledAt = loop.now();
    // then 10 s of nothing but successes
    await waitFor('10 s without a failed request', async () => {
      const last = [...loop.records].reverse().find((r) => !r.ok);
      return loop.now() - (last?.at ?? 0) > 10_000 && loop.now() - rescheduledAt > 10_000;
    }, 120_000);
    const records = await loop.stop();
    const s = summarize(records);
    const failures = records.filter((r) => !r.ok && r.at >= stoppedAt);
    const lastFailure = failures.length ? failures[failures.length - 1]!.at : stoppedAt;
    log(`failover: ${s.total} requests at 10/s, ${s.failed} failed (${JSON.stringify(s.errors)}); ` +
      `requests served again after ${((lastFailure - stoppedAt) / 1000).toFixed(1)} s; ` +
      `3 ready web pods again after ${((rescheduledAt - stoppedAt) / 1000).toFixed(1)} s; p50 ${s.p50} ms, p99 ${s.p99} ms`);
    expect(records.filter((r) => !r.ok && r.at < stoppedAt)).toEqual([]);
    expect(s.ok).toBeGreaterThan(s.failed);

    const results = await runSmoke({ name: 'k8s', baseUrl: provider.entry(), markerFile: markerFile(stack.stateDir, stack.project) });
    log(`smoke after failover: ${results.map((r) => `${r.name}:${r.ok ? 'ok' : 'FAILED'}`).join(' ')}`);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const after = await podsOf(ops, 'web');
    expect(after.filter((p) => p.ready && p.node === survivor)).toHaveLength(3);
  });
});
