import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StackportError } from '../../src/errors.js';
import type { DevService, DevTarget, Rolled } from '../../src/dev/target.js';
import { applyChange, type UpdateContext, type WatchedService } from '../../src/dev/update.js';

/**
 * One rebuild update (src/dev/update.ts applyChange) against a fake target: a failed build leaves
 * the previous version (no undo), a failing smoke check after a roll puts the previous version
 * back (undo). The smoke check is the real one (web: the page), against a local HTTP server that
 * serves what the "cluster" serves.
 */
let page = 'Hello Docker!';
let server: Server;
let entry = '';
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1>${page}</h1>`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  entry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

class FakeTarget implements DevTarget {
  readonly name = 'cluster' as const;
  readonly undone: string[] = [];
  constructor(private readonly rebuilt: () => Promise<Rolled>) {}
  async instances() {
    return [{ id: 'web-1', name: 'pod/web-1' }];
  }
  async copy() {}
  async exec() {
    return { code: 0, stdout: '', stderr: '' };
  }
  async signal() {}
  async logTail() {
    return '';
  }
  rebuild(): Promise<Rolled> {
    return this.rebuilt();
  }
  async undo(service: DevService) {
    this.undone.push(service.name);
    page = 'Hello Docker!';
  }
  smokeTarget() {
    return { name: 'k8s', baseUrl: entry };
  }
  streamLogs() {
    return { stop: () => undefined };
  }
}

const WEB: WatchedService = { name: 'web', context: '/ctx/web', dockerfile: 'Dockerfile', args: {}, image: 'stackport-web:1' };
const change = { service: 'web', files: ['nginx.conf'], removed: [], firstAt: Date.now() };
const context = (target: DevTarget): UpdateContext => ({ target, project: 'demo', outputs: new Map(), toolchains: new Map() });

beforeEach(() => {
  page = 'Hello Docker!';
});

test('a failed build: the update fails with the build output, the previous version keeps serving, nothing is undone', async () => {
  const target = new FakeTarget(async () => {
    throw new StackportError('compose build web failed', { details: 'nginx: [emerg] unexpected "}" in nginx.conf:12' });
  });
  const r = await applyChange(context(target), WEB, change);
  expect(r.ok).toBe(false);
  expect(r.action).toBe('rebuild+roll');
  expect(r.line).toMatch(/^✗ web: nginx\.conf -> rebuild\+roll failed after .*: compose build web failed; the previous version keeps serving$/);
  expect(r.error?.details).toMatch(/unexpected "}"/);
  expect(r.smoke).toEqual([]);
  expect(target.undone).toEqual([]);
});

test('a roll whose smoke check fails: undo puts the previous version back', async () => {
  const target = new FakeTarget(async () => {
    page = 'Bad Gateway';
    return { did: 'pushed to localhost:5001 (sha256:bbbbbbbbbbbb), deployment/web rolled' };
  });
  const r = await applyChange(context(target), WEB, change);
  expect(r.ok).toBe(false);
  expect(target.undone).toEqual(['web']);
  expect(r.smoke.map((s) => s.ok)).toEqual([false]);
  expect(r.line).toMatch(/smoke FAILED \(page says Hello Docker!: GET \/ does not say Hello Docker!.*\); rolled back to the previous version$/);
});

test('a roll whose smoke check passes: live, nothing undone', async () => {
  const target = new FakeTarget(async () => ({ did: 'delivered stackport-web:1, deployment/web rolled' }));
  const r = await applyChange(context(target), WEB, change);
  expect(r.ok).toBe(true);
  expect(target.undone).toEqual([]);
  expect(r.line).toMatch(/^✓ web: nginx\.conf -> rebuild\+roll \(delivered stackport-web:1, deployment\/web rolled\); live in .*; smoke ok \(1 check/);
});

test('an undo that fails too is reported, not thrown', async () => {
  const target = new FakeTarget(async () => {
    page = 'Bad Gateway';
    return { did: 'rolled' };
  });
  target.undo = async () => {
    throw new Error('rollout undo: forbidden');
  };
  const r = await applyChange(context(target), WEB, change);
  expect(r.ok).toBe(false);
  expect(r.line).toMatch(/rollback failed too: rollout undo: forbidden$/);
});
