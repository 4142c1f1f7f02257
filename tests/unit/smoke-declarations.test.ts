import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseText } from '../../src/compose/source.js';
import { readComposeFiles } from '../../src/compose/load.js';
import { parseSmokeList, smokeDeclarations, type SmokeCheck } from '../../src/smoke/declarations.js';
import { defaultChecks, runSuite } from '../../src/smoke/run.js';
import type { CheckTarget } from '../../src/smoke/target.js';
import { ValidationError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'smoke-decl-'));

function write(text: string, name = 'compose.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** As prepareStack takes them: from the trees of the one read of the files. */
function declared(files: string[]): SmokeCheck[] {
  const sources = readComposeFiles(files, { displayBase: dir });
  return smokeDeclarations(files.map((f) => sources.get(f)!));
}

function load(text: string): SmokeCheck[] {
  return declared([write(text)]);
}

function problemsOf(text: string): string[] {
  try {
    load(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).exitCode).toBe(2);
    return (e as ValidationError).problems.map((p) => p.located);
  }
  throw new Error('expected the declaration to be refused');
}

describe('x-stackport.smoke declarations', () => {
  test('top level and per service, each kind, with defaults', () => {
    const checks = load(`
x-stackport:
  smoke:
    - http: { service: web, port: 80, path: /, contains: Hello }
    - tcp: { service: db, port: 5432 }
services:
  web:
    image: nginx
  db:
    image: postgres
    x-stackport:
      smoke:
        - exec: { command: 'pg_isready -U "$$POSTGRES_USER"' }
        - exec: { command: [psql, -c, "select 1"], exit_code: 0, contains: "1", name: psql answers }
`);
    expect(checks).toEqual([
      expect.objectContaining({ kind: 'http', service: 'web', port: 80, path: '/', method: 'GET', status: 200, contains: 'Hello' }),
      expect.objectContaining({ kind: 'tcp', service: 'db', port: 5432, name: 'tcp db:5432 accepts connections' }),
      // Compose's $$ escape is undone: the shell sees $POSTGRES_USER
      expect.objectContaining({ kind: 'exec', service: 'db', command: ['sh', '-c', 'pg_isready -U "$POSTGRES_USER"'], exitCode: 0 }),
      expect.objectContaining({ kind: 'exec', service: 'db', command: ['psql', '-c', 'select 1'], contains: '1', name: 'psql answers' }),
    ]);
  });

  test('malformed declarations: every problem at file:line:col', () => {
    expect(
      problemsOf(`services:
  web:
    image: nginx
    x-stackport:
      smoke:
        - http: { port: 0 }
        - ping: { port: 80 }
        - tcp: { service: db, port: 80 }
x-stackport:
  smoke:
    - http: { service: nope, port: 80, path: x }
    - exec: { service: web }
    - tcp: { port: 80, colour: red }
`),
    ).toEqual([
      'compose.yaml:11:24: x-stackport.smoke[0].http.service: no service "nope" in the file (services: web)',
      'compose.yaml:12:13: x-stackport.smoke[1].exec.command is required (a string for sh -c, or a list)',
      'compose.yaml:13:24: x-stackport.smoke[2].tcp: unknown key "colour" (allowed: service, name, port)',
      'compose.yaml:13:12: x-stackport.smoke[2].tcp.service is required at the top level (which service to check)',
      'compose.yaml:6:25: services.web.x-stackport.smoke[0].http.port must be a whole number from 1 to 65535',
      'compose.yaml:7:11: services.web.x-stackport.smoke[1]: unknown kind of check "ping" (known: http, tcp, exec, messages)',
      'compose.yaml:8:27: services.web.x-stackport.smoke[2].tcp.service: a check under services.web is about web, not db (declare it at the top level)',
    ]);
  });

  test('not a list', () => {
    expect(problemsOf('services:\n  web:\n    image: nginx\nx-stackport:\n  smoke: { http: {} }\n')).toEqual([
      'compose.yaml:5:10: x-stackport.smoke must be a list of checks (- http: {...}, - tcp: {...}, - exec: {...})',
    ]);
  });

  test('a later file replaces a service list and adds to the top level', () => {
    const a = write('services:\n  web:\n    image: nginx\n    x-stackport:\n      smoke:\n        - tcp: { port: 80 }\n', 'a.yaml');
    const b = write('services:\n  web:\n    x-stackport:\n      smoke:\n        - http: { port: 80, path: /health }\nx-stackport:\n  smoke:\n    - tcp: { service: web, port: 443 }\n', 'b.yaml');
    const checks = declared([a, b]);
    expect(checks.map((c) => `${c.kind} ${c.service}`)).toEqual(['tcp web', 'http web']);
    expect(checks[0]).toMatchObject({ port: 443 });
  });

  test('the loader reports a service list problem too (generate)', () => {
    const parsed = parseText('- tcp: { port: 99999 }\n', 'c.yaml');
    const problems: { message: string }[] = [];
    parseSmokeList(parsed.root!, 'services.web.x-stackport.smoke', new Set(['web']), problems as never, 'web');
    expect(problems.map((p) => p.message)).toEqual(['services.web.x-stackport.smoke[0].tcp.port must be a whole number from 1 to 65535']);
  });
});

describe('running declared checks', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/health') return void res.writeHead(200).end('{"status":"ok"}');
      if (req.url === '/broken') return void res.writeHead(500).end('boom');
      res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const target = (ready = true): CheckTarget & { closed: boolean } => ({
    name: 'test',
    closed: false,
    address: async () => ({ host: '127.0.0.1', port, via: 'test' }),
    exec: async (_s, argv) => ({ exitCode: argv.includes('fail') ? 3 : 0, output: argv.join(' ') }),
    readiness: async () => [{ service: 'web', ready, state: ready ? 'healthy' : 'unhealthy' }],
    async close() {
      this.closed = true;
    },
  });

  test('pass and fail, each with its reason; the target is closed after', async () => {
    const t = target();
    const results = await runSuite(t, load(`
services:
  web:
    image: nginx
    x-stackport:
      smoke:
        - http: { port: 80, path: /health, contains: '"status":"ok"' }
        - http: { port: 80, path: /health, contains: degraded }
        - http: { port: 80, path: /missing }
        - tcp: { port: 80 }
        - exec: { command: [echo, hi], contains: hi }
        - exec: { command: [fail] }
`), { published: [] });
    expect(results.map((r) => [r.ok, r.name])).toEqual([
      [true, 'every service ready'],
      [true, 'http web:80/health answers 200 containing "status":"ok"'],
      [false, 'http web:80/health answers 200 containing degraded'],
      [false, 'http web:80/missing answers 200'],
      [true, 'tcp web:80 accepts connections'],
      [true, 'exec in web: echo hi says hi'],
      [false, 'exec in web: fail'],
    ]);
    expect(results[3]!.detail).toContain('answered 404, not 200');
    expect(results[6]!.detail).toContain('exited with 3, not 0');
    expect(t.closed).toBe(true);
  });

  test('none declared: ready, and every published port answers (5xx fails)', async () => {
    const checks = defaultChecks([
      { service: 'web', hostIp: '127.0.0.1', published: 8080, target: 80, protocol: 'tcp' },
      { service: 'web', hostIp: '::', published: 8080, target: 80, protocol: 'tcp' },
      { service: 'dns', hostIp: '127.0.0.1', published: 53, target: 53, protocol: 'udp' },
    ]);
    expect(checks).toEqual([expect.objectContaining({ kind: 'tcp', service: 'web', port: 80 })]);
    const results = await runSuite(target(false), [], { published: [{ service: 'web', hostIp: '127.0.0.1', published: 8080, target: 80, protocol: 'tcp' }] });
    expect(results[0]).toMatchObject({ ok: false, detail: 'not ready: web (unhealthy)' });
    expect(results[1]).toMatchObject({ ok: true });
    expect(results[1]!.detail).toMatch(/^HTTP 404 in \d+ ms via test$/);
  });
});

describe('tcp check', () => {
  test('a listener that closes at once is not answering; one that waits or greets is', async () => {
    const net = await import('node:net');
    const { tcpConnect } = await import('../../src/smoke/run.js');
    const closer = net.createServer((sock) => sock.destroy());
    const greeter = net.createServer((sock) => sock.end('hello\n'));
    const waiter = net.createServer(() => undefined);
    const listen = (srv: import('node:net').Server) => new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    const [c, g, w] = [await listen(closer), await listen(greeter), await listen(waiter)];
    try {
      await expect(tcpConnect({ host: '127.0.0.1', port: c, via: 'closer' })).rejects.toThrow('connection closed at once (via closer)');
      await expect(tcpConnect({ host: '127.0.0.1', port: g, via: 'greeter' })).resolves.toEqual(expect.any(Number));
      await expect(tcpConnect({ host: '127.0.0.1', port: w, via: 'waiter' })).resolves.toEqual(expect.any(Number));
    } finally {
      for (const s of [closer, greeter, waiter]) {
        s.close();
      }
    }
  });
});
