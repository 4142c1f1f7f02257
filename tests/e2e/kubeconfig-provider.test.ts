/**
 * "Your cluster": the kubeadm cluster used as if it were someone else's, only through a
 * kubeconfig holding a namespace-scoped ServiceAccount token (not the admin config), images
 * through the local registry (pushed, named by digest). The Compose stack of the demo (project
 * stackport-remote) is migrated with its data, smoke-tested through a port-forward stackport
 * runs, scaled, updated and rolled back. First, with one RoleBinding missing, preflight names the
 * missing permission and nothing is applied.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { prepareStack, buildChanged, execIn, removeProject, type Stack } from '../../src/stack/stack.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { runScript } from '../integration/helpers.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { CacheLayout } from '../../src/cluster/build/cache.js';
import { KUBERNETES_VERSION } from '../../src/cluster/build/versions.js';
import { registryUp } from '../../src/cluster/addons/registry.js';
import { cacheRoot } from '../../src/engine/cache.js';
import { freshStack } from './fresh-stack.js';
import { detect } from '../../src/cluster/providers/detect.js';

jest.setTimeout(900_000);

const root = path.resolve(__dirname, '..', '..');
const project = 'stackport-remote';
const namespace = 'sp-remote-e2e';
const env = { ...process.env, STACKPORT_PROJECT: project, WEB_PORT: '18700', STACKPORT_REGISTRY: '' };
const progress = new SilentProgress();
const log = (line: string) => process.stderr.write(`[kubeconfig e2e] ${line}\n`);
const admin = new Kubectl(new CacheLayout(KUBERNETES_VERSION).binary('kubectl'), '/etc/kubernetes/admin.conf');
const COUNT_SQL = 'SELECT count(*) FROM messages';
const SEEDED = 10;

let stack: Stack;
let kubeconfig: string;

/** What a team grants a deployer: the app's objects, without exec and port-forward. */
const DEPLOY_RULES = [
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'controllerrevisions'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [''], resources: ['services', 'configmaps', 'secrets', 'serviceaccounts', 'persistentvolumeclaims', 'pods', 'events'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
];
const EXEC_RULES = [{ apiGroups: [''], resources: ['pods/exec', 'pods/portforward'], verbs: ['get', 'create'] }];

function rbac(): object[] {
  const role = (name: string, rules: object[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer', namespace } },
    role('stackport-deploy', DEPLOY_RULES),
    role('stackport-exec', EXEC_RULES),
    binding('stackport-deploy'),
    binding('stackport-exec'),
  ];
}

function binding(role: string): object {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: role, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
    subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace }],
  };
}

/** A kubeconfig with the ServiceAccount's token: the server and CA of the cluster, nothing else of the admin's. */
async function tokenKubeconfig(): Promise<string> {
  type Cfg = { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cfg = parse((await admin.run(['config', 'view', '--raw', '--minify'])).stdout) as Cfg;
  const token = (await admin.run(['create', 'token', 'deployer', '-n', namespace, '--duration', '2h'])).stdout.trim();
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sp-remote-')), 'kubeconfig');
  const c = cfg.clusters[0]!.cluster;
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'remote', cluster: { server: c.server, 'certificate-authority-data': c['certificate-authority-data'] } }],
      users: [{ name: 'deployer', user: { token } }],
      contexts: [{ name: 'deployer@remote', context: { cluster: 'remote', user: 'deployer', namespace } }],
      'current-context': 'deployer@remote',
    }),
    { mode: 0o600 },
  );
  return file;
}

const flags = () => ['--kubeconfig', kubeconfig, '--registry', 'localhost:5001', '--storage-class', 'local-path'];
const reportLine = (out: string, step: string) => out.split('\n').find((l) => l.trimStart().startsWith(step)) ?? '';

async function script(name: string, args: string[], timeoutMs = 600_000) {
  const r = await runScript(name, args, env, timeoutMs);
  log(`${name} ${args.join(' ')} -> ${r.code}`);
  return r;
}

beforeAll(async () => {
  // the cluster this test treats as someone else's: up (a no-op when it runs; an earlier file may have taken it down)
  await (await detect({ root }, 'kubeadm')).create({ progress });
  await registryUp(root, cacheRoot(), progress);
  stack = await freshStack(root, project, env, progress);
  for (let i = 0; i < SEEDED; i++) {
    await fetch('http://127.0.0.1:18700/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `remote seeded ${i}` }) });
  }
  await admin.run(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
  await admin.run(['create', 'namespace', namespace]);
  await admin.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac() }));
  kubeconfig = await tokenKubeconfig();
  // the token really is not the admin's
  const nodes = await new Kubectl(admin.binary, kubeconfig).run(['get', 'nodes']).then(() => 'allowed', (e: { stderr: string }) => e.stderr);
  expect(nodes).toMatch(/forbidden/);
});

afterAll(async () => {
  await admin.run(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  if (stack) await removeProject(project, progress, { volumes: true });
});

test('one RoleBinding missing: preflight names the permissions, exit 2, nothing applied', async () => {
  await admin.run(['delete', 'rolebinding', 'stackport-exec', '-n', namespace]);
  try {
    const r = await script('migrate.mjs', flags());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('permission missing: create pods/exec in namespace sp-remote-e2e, needed for data move');
    expect(r.stderr).toContain('permission missing: create pods/portforward in namespace sp-remote-e2e, needed for smoke');
    expect(r.stderr).not.toMatch(/permission missing: .*deployments/);
    const objects = (await admin.run(['get', 'deployments,statefulsets,services,configmaps', '-n', namespace, '-o', 'name'])).stdout.trim();
    expect(objects.split('\n').filter((l) => l && !l.includes('kube-root-ca.crt'))).toEqual([]);
  } finally {
    await admin.apply(JSON.stringify(binding('stackport-exec')));
  }
});

test('migrate with data through the token kubeconfig: pushed by digest, smoke green through a port-forward', async () => {
  const r = await script('migrate.mjs', flags());
  if (r.code !== 0) throw new Error(`migrate exited with ${r.code}:\n${r.stderr.slice(-4000)}`);
  const out = r.stdout;
  log(out.slice(out.indexOf('migration report:')).trim());
  expect(reportLine(out, 'deliver images')).toMatch(/pushed 4 image\(s\) to localhost:5001/);
  expect(reportLine(out, 'check the cluster')).toMatch(/permissions allowed \(SelfSubjectAccessReview\)/);
  expect(reportLine(out, 'check that the nodes pull')).toMatch(/a node pulled localhost:5001\/\S+@sha256:[0-9a-f]{64} from the registry/);
  expect(reportLine(out, 'move data')).toMatch(/PostgreSQL db copied .*same as Compose/);
  expect(out).toMatch(/\[k8s\] earlier messages are still there/);
  const images = (await admin.run(['get', 'deployments,statefulsets', '-n', namespace, '-o', 'jsonpath={..containers[*].image}'])).stdout.split(/\s+/).filter(Boolean);
  expect(images.length).toBeGreaterThanOrEqual(4);
  for (const i of images) expect(i).toMatch(/^localhost:5001\/.+@sha256:[0-9a-f]{64}$/);
  const composeRows = Number((await execIn(stack, 'db', ['sh', '-c', `psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "${COUNT_SQL}"`])).trim());
  const clusterRows = Number((await admin.run(['exec', '-n', namespace, 'db-0', '-c', 'db', '--', 'sh', '-c', `psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "${COUNT_SQL}"`])).stdout.trim());
  expect(clusterRows).toBe(composeRows + 1);
});

test('a second migrate pushes nothing new and rolls nothing', async () => {
  const before = (await admin.run(['get', 'deployment', 'web', '-n', namespace, '-o', 'jsonpath={.metadata.generation}'])).stdout;
  const r = await script('migrate.mjs', flags());
  expect(r.code).toBe(0);
  const after = (await admin.run(['get', 'deployment', 'web', '-n', namespace, '-o', 'jsonpath={.metadata.generation}'])).stdout;
  expect(after).toBe(before);
});

test('day two through the same kubeconfig: scale, update, rollback', async () => {
  const k8s = (args: string[]) => script('k8s.mjs', [...args, '--kubeconfig', kubeconfig, '--registry', 'localhost:5001'], 400_000);
  const scaled = await k8s(['scale', 'web=2']);
  expect(scaled.code).toBe(0);
  expect(scaled.stdout).toMatch(/web: 2\/2 ready/);

  const v2 = await prepareStack({ root, progress, env: { ...env, WEB_VERSION: '2' } });
  await buildChanged(v2);
  const updated = await k8s(['update', 'web', '--image', 'stackport-web:2']);
  if (updated.code !== 0) throw new Error(updated.stderr.slice(-3000));
  expect(updated.stdout).toMatch(/web now runs stackport-web:2 on \d+ pod\(s\), rolled out in .* \(pushed, by digest sha256:[0-9a-f]+\)/);
  const image = () => admin.run(['get', 'deployment', 'web', '-n', namespace, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']).then((r) => r.stdout);
  const v2Image = await image();

  const back = await k8s(['rollback', 'web']);
  expect(back.code).toBe(0);
  const v1Image = await image();
  expect(v1Image).toMatch(/^localhost:5001\/stackport-web@sha256:/);
  expect(v1Image).not.toBe(v2Image);

  const status = await k8s(['status']);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/web\s+Deployment\s+2\/2 ready/);
});
