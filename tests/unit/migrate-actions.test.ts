import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ActionError } from '../../src/exec/actions.js';
import { CommandError } from '../../src/errors.js';
import type { ClusterProvider } from '../../src/cluster/providers/provider.js';
import type { ContainerState } from '../../src/stack/containers.js';
import { loadedProject, type Stack } from '../../src/stack/stack.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { ACTION_NAMES, LEFT_RUNNING, newMigrateContext, RECORD_CONFIGMAP, restartAfterCopies, restartsDue, runMigration, type MigrateContext } from '../../src/migrate/migrate.js';
import type { ComposeMount } from '../../src/migrate/data-files.js';
import { FakeCmder } from './helpers/fake-cmder.js';
import { FakeKubectl } from './helpers/fake-kubectl.js';
import { actionFailure as failure } from './helpers/action-failure.js';

/**
 * The migration's action list against a fake machine: kubectl and every other command go through
 * a FakeCmder (the Cmder seam), the Compose side through fake edges that record what they were
 * asked. The generator runs for real on a one-service Compose file.
 */
const PROJECT = 'runner-unit';
const RENDERED = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    app.kubernetes.io/managed-by: stackport
    app.kubernetes.io/instance: ${PROJECT}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          image: nginx:1.25-alpine
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  selector:
    app.kubernetes.io/name: web
  ports:
    - port: 80
`;
const READY = JSON.stringify({
  items: [{ kind: 'Deployment', metadata: { name: 'web', generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1 } }],
});

interface World {
  ctx: MigrateContext;
  cmd: FakeCmder;
  out: string[];
  composeDowns: number;
  composeRunning: () => boolean;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function world(cmd: FakeCmder, opts: { cutover?: boolean; env?: NodeJS.ProcessEnv; services?: string[]; mounts?: ComposeMount[]; copyBindMounts?: boolean } = {}): World {
  const dir = mkdtempSync(path.join(tmpdir(), 'runner-migrate-unit-'));
  dirs.push(dir);
  const file = path.join(dir, 'compose.yaml');
  writeFileSync(file, 'services:\n  web:\n    image: nginx:1.25-alpine\n    ports:\n      - "18580:80"\n');
  writeFileSync(path.join(dir, '.env'), '');
  const services = opts.services ?? ['web'];
  let containers: ContainerState[] = services.map((s, i) => ({ id: `c${i + 1}`, name: `${PROJECT}-${s}-1`, service: s, status: 'running', exitCode: 0, restartCount: 0, image: 'nginx:1.25-alpine', ports: [] }));
  const w: World = {
    cmd,
    out: [],
    composeDowns: 0,
    composeRunning: () => containers.some((c) => c.status === 'running'),
  } as unknown as World;
  const provider = {
    name: 'kubeadm',
    status: async () => ({ state: 'running' }),
    nodes: async () => [{ name: 'node', ready: true, roles: [], internalIp: '10.0.0.2' }],
    create: async () => {
      throw new Error('the cluster runs: create is not called');
    },
    entry: () => 'http://127.0.0.1:8090',
    loadImages: async () => [],
  } as unknown as ClusterProvider;
  const stack = {
    root: dir,
    composeFile: file,
    composeFiles: [file],
    demo: false,
    displayFile: 'compose.yaml',
    envFile: path.join(dir, '.env'),
    project: PROJECT,
    stateDir: path.join(dir, '.stackport'),
    config: { services: services.map((name) => ({ name, hasHealthcheck: false, ports: [], image: 'nginx:1.25-alpine' })) },
    smoke: [],
    env: {},
  } as unknown as Stack;
  w.ctx = newMigrateContext({
    opts: { root: dir, progress: new SilentProgress(), out: { write: (s: string) => w.out.push(s) } as unknown as NodeJS.WritableStream, env: opts.env ?? {}, cutover: opts.cutover, copyBindMounts: opts.copyBindMounts },
    stack,
    provider,
    target: 'kubeadm',
    namespace: 'default',
    workDir: dir,
    cmd,
    progress: new SilentProgress(),
    edges: {
      containers: async () => containers,
      composeMounts: async () => opts.mounts ?? [],
      build: async () => [],
      down: async () => {
        w.composeDowns++;
        containers = [];
      },
      imageId: async () => 'sha256:0123456789abcdef',
      kubectl: async () => new FakeKubectl(cmd),
    },
  });
  return w;
}

/** A cluster that answers: kustomize renders, nothing of another project, rollout ready, no record yet. */
function cluster(rules: ConstructorParameters<typeof FakeCmder>[0] = []): FakeCmder {
  return new FakeCmder([
    ...rules,
    { match: / kustomize /, stdout: RENDERED },
    { match: / get services -A/, stdout: '{"items":[]}' },
    { match: / get deployments,statefulsets -n default/, stdout: '{"items":[]}' },
    { match: / diff --server-side/, exitCode: 1, stdout: '+ kind: Deployment' },
    { match: / apply --server-side .* -f \S*applied\.yaml/, stdout: 'deployment.apps/web serverside-applied\nservice/web serverside-applied' },
    { match: / get deployments\.apps,statefulsets\.apps/, stdout: '{"items":[]}' },
    { match: / get deployments,statefulsets,daemonsets/, stdout: READY },
    { match: new RegExp(` get configmap ${RECORD_CONFIGMAP}`), exitCode: 1, stderr: `Error from server (NotFound): configmaps "${RECORD_CONFIGMAP}" not found` },
  ]);
}


const APPLY_STDERR = 'Error from server (Invalid): error when creating "applied.yaml": Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value';

test('names the failed step', async () => {
  const w = world(cluster([{ match: / apply --server-side .* -f \S*applied\.yaml/, exitCode: 1, stderr: APPLY_STDERR }]));
  const err = await failure(runMigration(w.ctx));
  expect(err.action).toBe('apply');
  expect(err.message).toMatch(/^migrate failed at action apply: kubectl apply --server-side exited with 1/);
  expect(err.outcomes.map((o) => `${o.name}:${o.state}`)).toEqual(['build-images:ran', 'deliver-images:ran', 'apply:failed', 'rollout:not-reached', 'smoke:not-reached', 'record:not-reached']);
  // nothing after apply asked the cluster
  expect(w.cmd.ran(/get deployments,statefulsets,daemonsets/)).toBe(0);
});

test("keeps the failed command's output", async () => {
  const w = world(cluster([{ match: / apply --server-side .* -f \S*applied\.yaml/, exitCode: 1, stdout: 'service/web serverside-applied', stderr: APPLY_STDERR }]));
  const err = await failure(runMigration(w.ctx));
  expect(err.command).toBeInstanceOf(CommandError);
  expect(err.command!.argv.slice(0, 4)).toEqual(['kubectl', '--kubeconfig', '/fake/admin.conf', 'apply']);
  expect(err.command!.code).toBe(1);
  expect(err.command!.stdout).toBe('service/web serverside-applied');
  expect(err.command!.stderr).toBe(APPLY_STDERR);
  expect(err.details).toContain('spec.template.spec.containers[0].image: Required value');
});

test('Compose left running: a failure before the cutover stops nothing and says so', async () => {
  // --cutover asked, the smoke suite fails on the cluster (injected): Compose must keep running
  const w = world(cluster(), { cutover: true, env: { STACKPORT_FAIL_ACTION: 'smoke' } });
  const err = await failure(runMigration(w.ctx));
  expect(err.action).toBe('smoke');
  expect(err.outcomes.find((o) => o.name === 'cutover')?.state).toBe('not-reached');
  expect(w.composeDowns).toBe(0);
  expect(w.composeRunning()).toBe(true);
  expect(w.cmd.ran(/docker|compose|pause|stop/)).toBe(0);
  expect(err.hint).toContain(LEFT_RUNNING);
});

test('the failed action keeps its own hint before the Compose one', async () => {
  const w = world(cluster());
  w.ctx.edges.imageId = async () => undefined;
  const err = await failure(runMigration(w.ctx));
  expect(err.action).toBe('deliver-images');
  expect(err.hint).toBe(`run \`make up\` first (it builds and tags them). ${LEFT_RUNNING}`);
});

test('a re-run resumes: what the cluster already has is skipped, the failed action runs again', async () => {
  const cmd = cluster([{ match: / apply --server-side .* -f \S*applied\.yaml/, exitCode: 1, stderr: APPLY_STDERR, times: 1 }]);
  const w = world(cmd, { env: { STACKPORT_FAIL_ACTION: 'smoke' } });
  await failure(runMigration(w.ctx));
  // second run: apply goes through; rollout is done already (workloads ready); smoke still injected
  const again = world(cmd, { env: { STACKPORT_FAIL_ACTION: 'smoke' } });
  const err = await failure(runMigration(again.ctx));
  expect(err.action).toBe('smoke');
  expect(err.outcomes.map((o) => `${o.name}:${o.state}`)).toEqual(['build-images:ran', 'deliver-images:ran', 'apply:ran', 'rollout:done-before', 'smoke:failed', 'record:not-reached']);
  // third run: the server-side diff is empty now, so apply is done too
  cmd.on({ match: / diff --server-side/, exitCode: 0 });
  const third = world(cmd, { env: { STACKPORT_FAIL_ACTION: 'smoke' } });
  const err3 = await failure(runMigration(third.ctx));
  expect(err3.outcomes.find((o) => o.name === 'apply')?.state).toBe('done-before');
  expect(cmd.ran(/ apply --server-side .* -f \S*applied\.yaml/)).toBe(2);
});

test('preflight and generate fail as actions too (an injected failure names them)', async () => {
  for (const name of ['preflight', 'generate']) {
    const w = world(cluster(), { env: { STACKPORT_FAIL_ACTION: name } });
    const err = await failure(runMigration(w.ctx));
    expect(err.action).toBe(name);
    expect(err.message).toBe(`migrate failed at action ${name}: injected failure (STACKPORT_FAIL_ACTION=${name})`);
    expect(w.composeRunning()).toBe(true);
  }
});

/** Two StatefulSets, each with a claim on /data (plain file volumes), beside the web Deployment. */
const FILES_RENDERED = `${RENDERED}${['files-a', 'files-b']
  .map(
    (n) => `---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${n}
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${n}
    spec:
      containers:
        - name: ${n}
          image: busybox:1.36
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
`,
  )
  .join('')}`;
const FILE_MOUNTS: ComposeMount[] = ['files-a', 'files-b'].map((s, i) => ({ service: s, container: `c${i + 2}`, type: 'volume', source: `${PROJECT}_${s}`, volume: s, target: '/data', image: 'busybox:1.36' }));

test('several file volumes: one restart action after all the data moves, not one per volume', async () => {
  // the first copy fails (injected): what comes after it is listed, in order, and never reached
  const w = world(cluster([{ match: / kustomize /, stdout: FILES_RENDERED }]), { services: ['web', 'files-a', 'files-b'], mounts: FILE_MOUNTS, env: { STACKPORT_FAIL_ACTION: 'data-volume-files-a' } });
  const err = await failure(runMigration(w.ctx));
  expect(err.action).toBe('data-volume-files-a');
  expect(err.outcomes.map((o) => `${o.name}:${o.state}`).slice(-5)).toEqual(['data-volume-files-a:failed', 'data-volume-files-b:not-reached', 'restart-after-copies:not-reached', 'smoke:not-reached', 'record:not-reached']);
  expect(err.outcomes.filter((o) => o.name === 'restart-after-copies')).toHaveLength(1);
  expect(w.cmd.ran(/ rollout restart /)).toBe(0);
  expect(ACTION_NAMES.slice(ACTION_NAMES.indexOf('data-*'), ACTION_NAMES.indexOf('data-*') + 3)).toEqual(['data-*', 'restart-after-copies', 'smoke']);
});

test('bind mounts are copied after the restart that follows the volume copies; a bind-mounted file has no copy step', async () => {
  const host = mkdtempSync(path.join(tmpdir(), 'runner-bind-'));
  dirs.push(host);
  mkdirSync(path.join(host, 'uploads'));
  writeFileSync(path.join(host, 'nginx.conf'), 'events {}\n');
  const binds: ComposeMount[] = [
    { service: 'web', container: 'c1', type: 'bind', source: path.join(host, 'uploads'), target: '/srv/uploads', image: 'nginx:1.25-alpine' },
    { service: 'web', container: 'c1', type: 'bind', source: path.join(host, 'nginx.conf'), target: '/etc/nginx/nginx.conf', image: 'nginx:1.25-alpine' },
  ];
  const w = world(cluster([{ match: / kustomize /, stdout: FILES_RENDERED }]), { services: ['web', 'files-a', 'files-b'], mounts: [...FILE_MOUNTS, ...binds], copyBindMounts: true, env: { STACKPORT_FAIL_ACTION: 'data-volume-files-a' } });
  const err = await failure(runMigration(w.ctx));
  const names = err.outcomes.map((o) => o.name);
  expect(names.slice(names.indexOf('restart-after-copies'), names.indexOf('restart-after-copies') + 3)).toEqual(['restart-after-copies', 'data-bind-web-uploads', 'smoke']);
  expect(names.filter((n) => n.startsWith('data-bind-'))).toEqual(['data-bind-web-uploads']);
});

test('no file volume: no restart action', async () => {
  const w = world(cluster(), { env: { STACKPORT_FAIL_ACTION: 'smoke' } });
  const err = await failure(runMigration(w.ctx));
  expect(err.outcomes.map((o) => o.name)).not.toContain('restart-after-copies');
});

const COPIED_AT = '2026-12-02T00:40:00.600Z';
const copyRecord = (data: Record<string, string>) => ({ match: / get configmap stackport-migration /, stdout: JSON.stringify({ data }) });
const deployments = (items: { name: string; created: string; restartedAt?: string }[]) => ({
  match: / get deployments -n default -l app.kubernetes.io\/managed-by=stackport -o json/,
  stdout: JSON.stringify({
    items: items.map((d) => ({ metadata: { name: d.name, creationTimestamp: d.created }, spec: { template: { metadata: { annotations: d.restartedAt ? { 'kubectl.kubernetes.io/restartedAt': d.restartedAt } : {} } } } })),
  }),
});

test('restart after file copies: the Deployments older than the newest copy restart once, then it is done', async () => {
  const cmd = cluster([
    copyRecord({ 'volume.files-a.copiedAt': '2026-12-02T00:39:00.000Z', 'volume.files-a.sha256': 'x', 'volume.files-b.copiedAt': COPIED_AT }),
    // api was created after the copies (its pods know the new addresses); web restarted before the second copy
    deployments([
      { name: 'web', created: '2026-12-02T00:30:00Z', restartedAt: '2026-12-02T00:39:30Z' },
      { name: 'api', created: '2026-12-02T00:41:00Z' },
    ]),
  ]);
  const w = world(cmd);
  w.ctx.kubectl = new FakeKubectl(cmd);
  expect(await restartAfterCopies.done!(w.ctx)).toBe(false);
  const detail = await restartAfterCopies.run(w.ctx, () => undefined);
  expect(cmd.calls.filter((c) => / rollout restart /.test(c))).toEqual(['kubectl --kubeconfig /fake/admin.conf rollout restart -n default deployment/web']);
  expect(detail).toBe('restarted web once after the file copies (new pod addresses)');
  // kubectl writes restartedAt in whole seconds: the second of the copy counts as after it
  cmd.on(deployments([{ name: 'web', created: '2026-12-02T00:30:00Z', restartedAt: '2026-12-02T00:40:00Z' }, { name: 'api', created: '2026-12-02T00:41:00Z' }]));
  expect(await restartAfterCopies.done!(w.ctx)).toBe(true);
});

test('restart after file copies: nothing copied on record, nothing to restart', async () => {
  const cmd = cluster([{ match: / get configmap stackport-migration /, stdout: '' }, deployments([{ name: 'web', created: '2026-12-02T00:30:00Z' }])]);
  const w = world(cmd);
  w.ctx.kubectl = new FakeKubectl(cmd);
  expect(await restartsDue(w.ctx)).toEqual([]);
  expect(await restartAfterCopies.done!(w.ctx)).toBe(true);
  // a record of other things (no copiedAt) is no copy either
  cmd.on(copyRecord({ 'postgres.db.sha256': 'y' }));
  expect(await restartsDue(w.ctx)).toEqual([]);
});

test('one load of the Compose file per run: the generate step reads it once, from the stack, and a later step reuses it', async () => {
  const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
  const spy = jest.spyOn(fs, 'readFileSync');
  try {
    const w = world(cluster(), { env: { STACKPORT_FAIL_ACTION: 'smoke' } });
    const file = w.ctx.stack.composeFiles[0]!;
    const reads = () => spy.mock.calls.filter(([p]) => String(p) === file).length;
    spy.mockClear();
    await failure(runMigration(w.ctx));
    expect(reads()).toBe(1);
    expect(w.ctx.stack.loaded?.app.services.map((s) => s.name)).toEqual(['web']);
    // what dev and the cluster deploy take (loadedProject) is that same load
    expect(loadedProject(w.ctx.stack)).toBe(w.ctx.stack.loaded);
    expect(reads()).toBe(1);
  } finally {
    spy.mockRestore();
  }
});
