/**
 * The api image against real PostgreSQL and RabbitMQ containers (testcontainers 11; the
 * Ryuk reaper image cannot be pulled offline, so containers are removed in afterAll).
 */
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

import path from 'node:path';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { buildChanged, prepareStack } from '../../src/stack/stack.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { root, tmpDir } from './helpers.js';

jest.setTimeout(300_000);

let network: StartedNetwork;
let db: StartedTestContainer;
let broker: StartedTestContainer;
let api: StartedTestContainer;
let base: string;

const images = { api: 'stackport-api:1', postgres: '', rabbitmq: '' };

/** RabbitMQ as the api expects it: reachable as `broker`, node name fixed by the hostname. */
function startBroker(): Promise<StartedTestContainer> {
  return new GenericContainer(images.rabbitmq)
    .withNetwork(network)
    .withNetworkAliases('broker')
    .withHostname('broker')
    .withEnvironment({ RABBITMQ_DEFAULT_USER: 'app', RABBITMQ_DEFAULT_PASS: 'broker-secret' })
    .withWaitStrategy(Wait.forSuccessfulCommand('rabbitmq-diagnostics -q ping'))
    .withStartupTimeout(120_000)
    .start();
}

beforeAll(async () => {
  const stateDir = tmpDir('tc');
  const stack = await prepareStack({ root, progress: new SilentProgress(), project: 'stackport-it-tc', stateDir, envFile: path.join(stateDir, '.env') });
  await buildChanged(stack);
  images.api = stack.config.services.find((s) => s.name === 'api')!.image!;
  images.postgres = stack.config.services.find((s) => s.name === 'db')!.image!;
  images.rabbitmq = stack.config.services.find((s) => s.name === 'broker')!.image!;

  network = await new Network().start();
  [db, broker] = await Promise.all([
    new GenericContainer(images.postgres)
      .withNetwork(network)
      .withNetworkAliases('db')
      .withEnvironment({ POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'app-secret', POSTGRES_DB: 'app' })
      .withWaitStrategy(Wait.forSuccessfulCommand('pg_isready -q -h 127.0.0.1 -U app -d app'))
      .start(),
    startBroker(),
  ]);
  api = await new GenericContainer(images.api)
    .withNetwork(network)
    .withEnvironment({
      PGHOST: 'db',
      PGUSER: 'app',
      PGPASSWORD: 'app-secret',
      PGDATABASE: 'app',
      RABBITMQ_HOST: 'broker',
      RABBITMQ_USER: 'app',
      RABBITMQ_PASSWORD: 'broker-secret',
      APP_VERSION: 'tc',
    })
    .withExposedPorts(3000)
    .withWaitStrategy(Wait.forHttp('/api/health', 3000).forStatusCode(200))
    .start();
  base = `http://${api.getHost()}:${api.getMappedPort(3000)}`;
});

afterAll(async () => {
  await Promise.allSettled([api?.stop(), db?.stop(), broker?.stop()]);
  await network?.stop();
});

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('health reports database and broker ok, and the configured version', async () => {
  const h = await getJson(`${base}/api/health`);
  expect(h.status).toBe(200);
  expect(h.body).toMatchObject({ status: 'ok', version: 'tc', database: { ok: true }, broker: { ok: true } });
});

test('a posted message is stored, published, consumed and marked delivered', async () => {
  const posted = await getJson(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
  expect(posted.status).toBe(201);
  expect(posted.body).toMatchObject({ text: 'hello', stored: true, delivered: false });
  const delivered = await waitFor('delivery', async () => {
    const g = await getJson(`${base}/api/messages/${posted.body.id}`);
    return g.body.delivered ? g.body : undefined;
  });
  expect(delivered.deliveredAt).not.toBeNull();
  const row = await db.exec(['psql', '-U', 'app', '-d', 'app', '-tAc', `SELECT text, delivered_at IS NOT NULL FROM messages WHERE id = ${posted.body.id}`]);
  expect(row.output.trim()).toBe('hello|t');
});

test('bad input gets 400 and unknown messages 404', async () => {
  const bad = await getJson(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": 42}' });
  expect(bad.status).toBe(400);
  const notJson = await getJson(`${base}/api/messages`, { method: 'POST', body: 'nope' });
  expect(notJson.status).toBe(400);
  expect((await getJson(`${base}/api/messages/999999`)).status).toBe(404);
});

test('broker restart: health turns degraded, then the api reconnects and delivers again', async () => {
  await broker.stop({ timeout: 10_000 }).catch(() => undefined); // removed too: no exited container left behind
  await waitFor('degraded health', async () => {
    const h = await getJson(`${base}/api/health`);
    return h.status === 503 && h.body.broker.ok === false ? true : undefined;
  });
  broker = await startBroker();
  await waitFor('healthy again', async () => ((await getJson(`${base}/api/health`)).status === 200 ? true : undefined), 90_000);
  const posted = await getJson(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'after restart' }) });
  expect(posted.status).toBe(201);
  await waitFor('delivery after restart', async () => ((await getJson(`${base}/api/messages/${posted.body.id}`)).body.delivered ? true : undefined));
});

test('SIGTERM drains: a request in flight when the container stops still completes', async () => {
  const slow = fetch(`${base}/api/sleep?ms=2000`).then(async (r) => ({ status: r.status, body: await r.json() }));
  await new Promise((r) => setTimeout(r, 300));
  const stopped = api.stop({ timeout: 15_000 });
  const result = await slow;
  expect(result).toEqual({ status: 200, body: { slept: 2000, version: 'tc' } });
  await stopped;
});
