import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { smokeService } from '../../src/dev/smoke-service.js';
import type { CheckTarget } from '../../src/smoke/target.js';
import type { SmokeCheck } from '../../src/smoke/declarations.js';

/**
 * make dev on a user's project runs that project's own checks of the changed service (not the
 * demo's "Hello Docker!"), through the same suite runner as `up` and migrate, and closes the target.
 */
let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 404).end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function target(): CheckTarget & { closed: number; asked: string[] } {
  const t = {
    name: 'compose',
    closed: 0,
    asked: [] as string[],
    async address(service: string) {
      t.asked.push(service);
      return { host: '127.0.0.1', port, via: 'test' };
    },
    async exec() {
      return { exitCode: 0, output: '' };
    },
    async readiness() {
      return [];
    },
    async close() {
      t.closed++;
    },
  };
  return t;
}

const declared: SmokeCheck[] = [
  { kind: 'http', service: 'shop', name: 'shop answers', port: 8000, path: '/ready', method: 'GET', status: 200 },
  { kind: 'http', service: 'admin', name: 'admin answers', port: 9000, path: '/missing', method: 'GET', status: 200 },
];

test("a user's project: the changed service's declared checks, not the demo's", async () => {
  const t = target();
  const results = await smokeService('shop', { name: 'compose', baseUrl: 'http://127.0.0.1:1' }, { target: t, declared, published: [] });
  expect(results.map((r) => [r.name, r.ok])).toEqual([['every service ready', true], ['shop answers', true]]);
  expect(t.asked).toEqual(['shop']);
  expect(t.closed).toBe(1);
});

test('a failing declared check of the changed service is reported as failed', async () => {
  const t = target();
  const results = await smokeService('admin', { name: 'compose', baseUrl: 'http://127.0.0.1:1' }, { target: t, declared, published: [] });
  expect(results.map((r) => [r.name, r.ok])).toEqual([['every service ready', true], ['admin answers', false]]);
  expect(t.closed).toBe(1);
});
