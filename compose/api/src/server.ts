import http from 'node:http';
import { loadConfig } from './config';
import { Store } from './db';
import { Broker } from './broker';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const config = loadConfig();
const store = new Store();
const broker = new Broker(config.amqpUrl, config.queue, (id) => store.markDelivered(id), log);
let shuttingDown = false;
let inFlight = 0;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    // While draining, tell keep-alive clients to open their next request elsewhere.
    ...(shuttingDown ? { connection: 'close' } : {}),
  });
  res.end(json);
}

async function readJson(req: http.IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { status: 400 });
  }
}

async function health(): Promise<{ status: number; body: unknown }> {
  let database: { ok: boolean; latencyMs?: number; dataset?: string; error?: string };
  try {
    database = { ok: true, latencyMs: await store.ping() };
    database.dataset = await store.dataset().catch(() => undefined);
  } catch (err) {
    database = { ok: false, error: (err as Error).message };
  }
  const brokerState = broker.ok ? { ok: true } : { ok: false, error: broker.lastError || 'not connected' };
  const ok = database.ok && brokerState.ok && !shuttingDown;
  return {
    status: ok ? 200 : 503,
    body: { status: ok ? 'ok' : shuttingDown ? 'shutting down' : 'degraded', version: config.version, database, broker: brokerState },
  };
}

async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname.replace(/\/+$/, '') || '/';
  if (req.method === 'GET' && p === '/api/health') {
    const h = await health();
    return send(res, h.status, h.body);
  }
  if (req.method === 'GET' && p === '/api/version') return send(res, 200, { version: config.version });
  if (req.method === 'GET' && p === '/api/stats') return send(res, 200, await store.stats());
  if (req.method === 'GET' && p === '/api/sleep') {
    // A slow request on purpose (at most 10 s): shows that SIGTERM drains in-flight work.
    const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? 1000) || 0, 0), 10_000);
    await new Promise((r) => setTimeout(r, ms));
    return send(res, 200, { slept: ms, version: config.version });
  }
  if (req.method === 'POST' && p === '/api/messages') {
    const body = (await readJson(req)) as { text?: unknown };
    if (typeof body.text !== 'string' || body.text.length === 0 || body.text.length > 10_000) {
      return send(res, 400, { error: 'body must be JSON {"text": "..."} with 1 to 10000 characters' });
    }
    const msg = await store.insert(body.text);
    await broker.publish(msg.id);
    return send(res, 201, { ...msg, stored: true, delivered: false });
  }
  const m = /^\/api\/messages\/(\d+)$/.exec(p);
  if (req.method === 'GET' && m) {
    const msg = await store.get(Number(m[1]));
    if (!msg) return send(res, 404, { error: `message ${m[1]} not found` });
    return send(res, 200, { ...msg, stored: true, delivered: msg.deliveredAt !== null });
  }
  return send(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
}

const server = http.createServer((req, res) => {
  inFlight++;
  res.on('close', () => inFlight--);
  route(req, res).catch((err: Error & { status?: number }) => {
    const status = err.status ?? 500;
    if (status >= 500) log(`error: ${req.method} ${req.url}: ${err.message}`);
    if (!res.headersSent) send(res, status, { error: err.message });
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: draining (${inFlight} request(s) in flight)`);
  if (config.preStopMs > 0) await new Promise((r) => setTimeout(r, config.preStopMs));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    log(`drain timeout after ${config.drainMs} ms, closing ${inFlight} request(s)`);
    server.closeAllConnections();
  }, config.drainMs);
  await closed;
  clearTimeout(timer);
  await broker.stop();
  await store.close().catch(() => undefined);
  log('stopped');
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

async function main(): Promise<void> {
  let delay = 250;
  for (;;) {
    try {
      await store.migrate();
      break;
    } catch (err) {
      log(`database: not ready (${(err as Error).message}), retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
  await broker.start();
  server.listen(config.port, () => log(`api ${config.version} listening on :${config.port}`));
}

main().catch((err: Error) => {
  log(`fatal: ${err.message}`);
  process.exit(1);
});
