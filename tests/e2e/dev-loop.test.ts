/**
 * make dev, the real thing: a copy of compose/ in a temp dir (the repo's files are never
 * edited), its own Compose project (stackport-dev, web on 127.0.0.1:18700) and its own cluster
 * namespace (stackport-dev, NodePort 30600). On each target, with scripts/dev.mjs running:
 * edit the page -> the page shows it; edit the api -> the api serves it; a syntax error ->
 * the previous version keeps serving and the compiler's error is printed; fixed -> live again.
 * On Compose also a non-sync change (nginx.conf: rebuild + roll of web only) and Ctrl-C (the
 * stack keeps running).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../../src/exec/wait.js';
import { detect } from '../../src/cluster/providers/detect.js';
import { kubectlFor } from '../../src/migrate/kube.js';
import { request } from '../../src/smoke/http.js';
import { buildChanged, prepareStack, removeProject, up, type Stack } from '../../src/stack/stack.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { deployToNamespace } from '../../src/dev/cluster-app.js';
import { writeDemoEnv } from '../../src/dev/demo-env.js';
import { LOCAL_REGISTRY, registryUp, wireKubeadm } from '../../src/cluster/addons/registry.js';
import { cacheRoot } from '../../src/engine/cache.js';

const root = path.resolve(__dirname, '../..');
const PROJECT = 'stackport-dev';
const NAMESPACE = 'stackport-dev';
const NODE_PORT = 30600;
jest.setTimeout(20 * 60_000);

function copyApp(): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'stackport-dev-e2e-'));
  for (const x of ['compose.yaml', 'web', 'api']) cpSync(path.join(root, 'compose', x), path.join(dir, x), { recursive: true, filter: (s) => !/\/(node_modules|dist)$/.test(s) && !s.endsWith('/.env') });
  return { dir, file: path.join(dir, 'compose.yaml') };
}

/**
 * The project's stack, from the copy: its credentials are kept between runs (the copy is new each
 * time, the data volumes are not), so a run starts from volumes that are already initialised
 * instead of waiting for a fresh RabbitMQ and PostgreSQL on a loaded machine.
 */
async function devStack(app: { dir: string; file: string }, env: NodeJS.ProcessEnv, options: { start: boolean } = { start: true }): Promise<Stack> {
  const kept = path.join(root, '.stackport', `${PROJECT}.env`);
  if (existsSync(kept)) copyFileSync(kept, path.join(app.dir, '.env'));
  else {
    await removeProject(PROJECT, new SilentProgress(), { volumes: true });
    await writeDemoEnv(path.join(app.dir, '.env'), env);
  }
  const stack = await prepareStack({ root, progress: new SilentProgress(), env });
  mkdirSync(path.dirname(kept), { recursive: true });
  copyFileSync(stack.envFile, kept);
  if (options.start) await up(stack);
  else await buildChanged(stack);
  return stack;
}

function edit(file: string, from: RegExp | string, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit of ${file}: ${String(from)} not found`);
  writeFileSync(file, next);
}

class DevProcess {
  readonly child: ChildProcess;
  output = '';
  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [path.join(root, 'node_modules/zx/build/cli.js'), path.join(root, 'scripts/dev.mjs'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c) => (this.output += String(c)));
    this.child.stderr!.on('data', (c) => (this.output += String(c)));
  }
  /** Waits for a line of make dev's own output (not the streamed logs) matching re, after `from`. */
  async line(re: RegExp, from: number, timeoutMs = 240_000): Promise<string> {
    return waitFor(`make dev to print ${re}`, async () => {
      if (this.child.exitCode !== null) throw new Error(`make dev exited with ${this.child.exitCode}:\n${this.output.slice(-3000)}`);
      return this.output.slice(from).split('\n').find((l) => re.test(l));
    }, { timeoutMs, intervalMs: 200 });
  }
  /** make dev's own lines (the streamed logs left out), kept for a look after the run. */
  save(name: string): void {
    const lines = this.output.split('\n').filter((l) => !/^\S+-\d+\s+\||^\[pod\//.test(l));
    mkdirSync(path.join(root, '.stackport'), { recursive: true });
    writeFileSync(path.join(root, '.stackport', `dev-e2e-${name}.log`), `${lines.join('\n')}\n`);
  }
  stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill('SIGINT');
    });
  }
}

const body = async (url: string) => (await request(url)).body;

/** The four steps of the issue, against a running make dev on one target. */
async function editLoop(dev: DevProcess, dir: string, entry: string, tag: string): Promise<void> {
  const page = path.join(dir, 'web/html/index.html');
  const server = path.join(dir, 'api/src/server.ts');
  // 1. the page
  let mark = dev.output.length;
  edit(page, '<h1>Hello Docker!</h1>', `<h1>Hello Docker!</h1><p id="dev">${tag} page edit 1</p>`);
  await waitFor(`the page to show "${tag} page edit 1"`, async () => (await body(`${entry}/`)).includes(`${tag} page edit 1`), { timeoutMs: 60_000, intervalMs: 100 });
  expect(await dev.line(/^✓ web: html\/index\.html -> sync 1 file/, mark)).toMatch(/smoke ok/);

  // 2. the api's source
  mark = dev.output.length;
  edit(server, 'send(res, 200, { version: config.version })', `send(res, 200, { version: config.version, edit: '${tag} api edit 1' })`);
  await waitFor('the api to serve edit 1', async () => (await body(`${entry}/api/version`)).includes(`${tag} api edit 1`), { timeoutMs: 240_000, intervalMs: 200 });
  expect(await dev.line(/^✓ api: src\/server\.ts -> sync \d+ files? to \d+ (container|pod)s?, restarted in place \(SIGHUP\)/, mark)).toMatch(/smoke ok/);

  // 3. a syntax error: the compiler's message is shown, the previous version keeps serving
  mark = dev.output.length;
  edit(server, `edit: '${tag} api edit 1' })`, `edit: '${tag} api edit 2' }) +;`);
  const failed = await dev.line(/^✗ api: src\/server\.ts -> sync failed/, mark);
  expect(failed).toMatch(/the previous version keeps serving/);
  await dev.line(/error TS\d+/, mark);
  const served = JSON.parse(await body(`${entry}/api/version`)) as { edit?: string };
  expect(served.edit).toBe(`${tag} api edit 1`);

  // 4. fixed: live again
  mark = dev.output.length;
  edit(server, `edit: '${tag} api edit 2' }) +;`, `edit: '${tag} api edit 3' })`);
  await waitFor('the api to serve edit 3', async () => (await body(`${entry}/api/version`)).includes(`${tag} api edit 3`), { timeoutMs: 240_000, intervalMs: 200 });
  expect(await dev.line(/^✓ api: src\/server\.ts -> sync/, mark)).toMatch(/smoke ok/);
}

describe('make dev on Compose', () => {
  const app = copyApp();
  const env = { ...process.env, STACKPORT_PROJECT: PROJECT, WEB_PORT: '18700', WEB_VERSION: 'dev', API_VERSION: 'dev', STACKPORT_COMPOSE_FILE: app.file };
  const entry = 'http://127.0.0.1:18700';
  let dev: DevProcess;

  beforeAll(async () => {
    await devStack(app, env);
    dev = new DevProcess(['--target', 'compose', '-f', app.file], env);
    await dev.line(/^watching api .* web /, 0, 300_000);
  }, 15 * 60_000);

  afterAll(async () => {
    await dev?.stop();
    dev?.save('compose');
    // containers go (restart policies would bring them back with every dockerd start), volumes stay
    await removeProject(PROJECT, new SilentProgress(), { volumes: false });
    rmSync(app.dir, { recursive: true, force: true });
  }, 120_000);

  test('page, api, syntax error, fix', async () => {
    await editLoop(dev, app.dir, entry, 'compose');
  });

  test('a change outside the sync rules rebuilds and recreates only that service', async () => {
    const before = await containerIds();
    const mark = dev.output.length;
    edit(path.join(app.dir, 'web/nginx.conf'), 'server_name _;', 'server_name _;\n    add_header X-Stackport-Dev "rebuilt" always;');
    const line = await dev.line(/^[✓✗] web: nginx\.conf -> /, mark, 600_000);
    expect(line).toMatch(/^✓ web: nginx\.conf -> rebuild\+roll \(image rebuilt, container recreated\); live in .*smoke ok/);
    const r = await fetch(`${entry}/`);
    expect(r.headers.get('x-stackport-dev')).toBe('rebuilt');
    // the synced page edit was in the context, so the new image has it too
    expect(await r.text()).toContain('compose page edit 1');
    const after = await containerIds();
    expect(after.web).not.toBe(before.web);
    expect(after.api).toBe(before.api);
    expect(after.db).toBe(before.db);
  });

  test('Ctrl-C stops watching and leaves the stack running', async () => {
    expect(await dev.stop()).toBe(0);
    expect(dev.output).toMatch(/the stack keeps running/);
    expect((await request(`${entry}/api/health`)).status).toBe(200);
  });

  async function containerIds(): Promise<Record<string, string>> {
    const { projectContainers } = await import('../../src/stack/containers.js');
    return Object.fromEntries((await projectContainers(PROJECT)).map((c) => [c.service, c.id]));
  }
});

describe('make dev on the kubeadm cluster', () => {
  const app = copyApp();
  const env = { ...process.env, STACKPORT_PROJECT: PROJECT, WEB_PORT: '18700', WEB_VERSION: 'dev', API_VERSION: 'dev', STACKPORT_COMPOSE_FILE: app.file };
  let dev: DevProcess;
  let entry = '';

  beforeAll(async () => {
    // the images come from the engine: built as Compose builds them (the stack need not run)
    const stack = await devStack(app, env, { start: false });
    const provider = await detect({ root }, 'kubeadm');
    // up (a no-op when it runs; an earlier file may have taken it down)
    await provider.create({ progress: new SilentProgress() });
    const kubectl = await kubectlFor(provider);
    await kubectl.run(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true'], { timeoutMs: 300_000 });
    await deployToNamespace({ stack, provider, kubectl, namespace: NAMESPACE, nodePort: NODE_PORT, workDir: path.join(app.dir, '.k8s'), validate: false });
    const ip = (await provider.nodes()).find((n) => n.internalIp)!.internalIp!;
    entry = `http://${ip}:${NODE_PORT}`;
    await waitFor('the app on the cluster', async () => (await request(`${entry}/api/health`)).status === 200, { timeoutMs: 180_000 });
    dev = new DevProcess(['--target', 'cluster', '-f', app.file, '--namespace', NAMESPACE, '--node-port', String(NODE_PORT), '--provider', 'kubeadm'], env);
    await dev.line(/^watching api .* web /, 0, 300_000);
  }, 20 * 60_000);

  afterAll(async () => {
    await dev?.stop();
    dev?.save('cluster');
    const provider = await detect({ root }, 'kubeadm');
    const kubectl = await kubectlFor(provider);
    await kubectl.run(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
    await removeProject(PROJECT, new SilentProgress(), { volumes: false });
    rmSync(app.dir, { recursive: true, force: true });
  }, 300_000);

  test('page, api, syntax error, fix', async () => {
    await editLoop(dev, app.dir, entry, 'cluster');
  });

  test('a change outside the sync rules, with a registry: web pushed and rolled by its new digest, nothing else rolled', async () => {
    expect(await dev.stop()).toBe(0);
    const provider = await detect({ root }, 'kubeadm');
    const kubectl = await kubectlFor(provider);
    await registryUp(root, cacheRoot(), new SilentProgress());
    await wireKubeadm(kubectl);
    const image = async (d: string) => (await kubectl.run(['get', `deployment/${d}`, '-n', NAMESPACE, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).stdout;
    const apiBefore = await image('api');
    dev = new DevProcess(['--target', 'cluster', '-f', app.file, '--namespace', NAMESPACE, '--node-port', String(NODE_PORT), '--provider', 'kubeadm', '--registry', LOCAL_REGISTRY], env);
    await dev.line(/^watching api .* web /, 0, 300_000);
    const mark = dev.output.length;
    edit(path.join(app.dir, 'web/nginx.conf'), 'server_name _;', 'server_name _;\n    add_header X-Stackport-Dev "pushed" always;');
    const line = await dev.line(/^[✓✗] web: nginx\.conf -> /, mark, 600_000);
    expect(line).toMatch(/^✓ web: nginx\.conf -> rebuild\+roll \(pushed to localhost:5001 \(sha256:[0-9a-f]+\), deployment\/web rolled\); live in .*smoke ok/);
    expect(await image('web')).toMatch(/^localhost:5001\/stackport-web@sha256:[0-9a-f]{64}$/);
    await waitFor('the entry to serve the rebuilt web', async () => (await fetch(`${entry}/`)).headers.get('x-stackport-dev') === 'pushed', { timeoutMs: 60_000, intervalMs: 200 });
    expect(await image('api')).toBe(apiBefore);
  });
});
