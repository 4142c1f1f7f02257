/**
 * The stack's view of a project (stack.config) comes from the one load of the Compose files
 * (src/compose's model), no longer from parsing `docker compose config`. The expected values are
 * what `docker compose config` prints for these files (compose-go: absolute build context, default
 * Dockerfile, build args as strings, long-syntax ports with host_ip only when given and published
 * as written, services without an enabled profile left out).
 */
import fs, { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/compose/load.js';
import { ValidationError } from '../../src/errors.js';
import { resolvedConfig, type ResolvedConfig } from '../../src/stack/resolved-config.js';
import { loadStackFiles, loadStackModel } from '../../src/stack/stack.js';

const root = path.resolve(__dirname, '../..');
const demo = path.join(root, 'compose', 'compose.yaml');

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-rc-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function configOf(dir: string, env: Record<string, string> = {}, files = ['compose.yaml']): ResolvedConfig {
  return resolvedConfig(loadProject({ files: files.map((f) => path.join(dir, f)), env, projectName: 'proj', displayBase: dir }));
}

/** The variables `make up` writes to compose/.env (debian drop-ins), without the random secrets. */
const DEMO_ENV = [
  'COMPOSE_PROJECT_NAME=stackport',
  'POSTGRES_USER=stackport',
  'POSTGRES_DB=stackport',
  'RABBITMQ_DEFAULT_USER=stackport',
  'POSTGRES_PASSWORD=secret-pg',
  'RABBITMQ_DEFAULT_PASS=secret-mq',
  'STACKPORT_IMAGE_SOURCE=debian',
  'NGINX_IMAGE=stackport/nginx:1.22-bookworm',
  'NODE_IMAGE=stackport/node:18-bookworm',
  'POSTGRES_IMAGE=stackport/postgres:15-bookworm',
  'RABBITMQ_IMAGE=stackport/rabbitmq:3.10-bookworm',
  '',
].join('\n');

describe('resolvedConfig: the demo, with the variables of its generated .env', () => {
  const envFile = path.join(tmp({ '.env': DEMO_ENV }), '.env');
  const load = (env: Record<string, string>) => resolvedConfig(loadProject({ files: [demo], envFile, projectName: 'stackport', env, displayBase: root }));

  test('services (sorted), images, builds, ports, healthchecks and volumes as `compose config` gives them', () => {
    expect(load({})).toEqual({
      services: [
        {
          name: 'api',
          image: 'stackport-api:1',
          build: { context: path.join(root, 'compose', 'api'), dockerfile: 'Dockerfile', args: { NODE_IMAGE: 'stackport/node:18-bookworm' } },
          ports: [], // `expose` publishes nothing
          hasHealthcheck: true,
        },
        { name: 'broker', image: 'stackport/rabbitmq:3.10-bookworm', ports: [], hasHealthcheck: true },
        { name: 'db', image: 'stackport/postgres:15-bookworm', ports: [], hasHealthcheck: true },
        {
          name: 'web',
          image: 'stackport-web:1',
          build: { context: path.join(root, 'compose', 'web'), dockerfile: 'Dockerfile', args: { NGINX_IMAGE: 'stackport/nginx:1.22-bookworm', PAGE_VERSION: '1' } },
          ports: [{ service: 'web', hostIp: '127.0.0.1', published: 8080, target: 80, protocol: 'tcp' }],
          hasHealthcheck: true,
        },
      ],
      volumes: ['broker-data', 'db-data'],
    });
  });

  test('the shell wins over the env file (WEB_PORT, WEB_VERSION, an image variable)', () => {
    const config = load({ WEB_PORT: '18080', WEB_VERSION: '2', NGINX_IMAGE: 'nginx:1.27' });
    const web = config.services.find((s) => s.name === 'web')!;
    expect(web.image).toBe('stackport-web:2');
    expect(web.build!.args).toEqual({ NGINX_IMAGE: 'nginx:1.27', PAGE_VERSION: '2' });
    expect(web.ports).toEqual([{ service: 'web', hostIp: '127.0.0.1', published: 18080, target: 80, protocol: 'tcp' }]);
  });

  test('without its credentials the demo is refused, as Compose refuses it (${X:?})', () => {
    const partial = path.join(tmp({ '.env': DEMO_ENV.replace(/^POSTGRES_PASSWORD=.*\n/m, '') }), '.env');
    let err: unknown;
    try {
      loadProject({ files: [demo], envFile: partial, projectName: 'stackport', env: {}, displayBase: root });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const lines = (err as ValidationError).problems.map((p) => p.located);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^compose\/compose\.yaml:\d+:\d+: services\.(api|db)\.environment\.(PGPASSWORD|POSTGRES_PASSWORD): required variable POSTGRES_PASSWORD is not set: run `make up` once to generate compose\/\.env$/);
  });
});

describe('resolvedConfig: small projects', () => {
  test('builds: absolute context, default Dockerfile, args as strings, Compose names the image when the file does not', () => {
    const dir = tmp({
      'compose.yaml': [
        'services:',
        '  app:',
        '    build: ./app/',
        '  worker:',
        '    image: registry.local/worker:${TAG:-dev}',
        '    build:',
        '      context: .',
        '      dockerfile: docker/worker.Dockerfile',
        '      args:',
        '        NUM: 1',
        '        FLAG: true',
        '        FROM_ENV:',
        '        DEFAULTED: ${MISSING:-fallback}',
        '  listed:',
        '    build:',
        '      context: ../elsewhere',
        '      args: ["A=${TAG}", "B", "C", "D=x=y"]',
        '  remote:',
        '    build: https://github.com/docker/awesome-compose.git#master:nginx-golang',
        '',
      ].join('\n'),
    });
    const config = configOf(dir, { TAG: 'v2', FROM_ENV: 'e', B: 'b' });
    expect(config.services.map((s) => s.name)).toEqual(['app', 'listed', 'remote', 'worker']);
    const [app, listed, remote, worker] = config.services;
    expect(app).toEqual({ name: 'app', image: undefined, build: { context: path.join(dir, 'app'), dockerfile: 'Dockerfile', args: {} }, ports: [], hasHealthcheck: false });
    // `KEY` alone comes from the environment; unset there, it is not passed (the Dockerfile's ARG default applies)
    expect(listed!.build).toEqual({ context: path.resolve(dir, '../elsewhere'), dockerfile: 'Dockerfile', args: { A: 'v2', B: 'b', D: 'x=y' } });
    expect(remote!.build!.context).toBe('https://github.com/docker/awesome-compose.git#master:nginx-golang');
    expect(worker).toMatchObject({
      image: 'registry.local/worker:v2',
      build: { context: dir, dockerfile: 'docker/worker.Dockerfile', args: { NUM: '1', FLAG: 'true', FROM_ENV: 'e', DEFAULTED: 'fallback' } },
    });
  });

  test('ports: host_ip 0.0.0.0 by default, protocol tcp by default, ranges one by one, none without a single published port', () => {
    const dir = tmp({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: nginx',
        '    ports:',
        '      - "8080:80"',
        '      - "127.0.0.1:8081:81/udp"',
        '      - "9000-9001:90-91"',
        '      - "7000-7010:70"', // a host range Compose picks a free port from: no one port to check
        '      - "3000"',
        '      - "127.0.0.1::5000"',
        '      - "[::1]:8444:443"',
        '      - { target: 8443, published: "8443", host_ip: "::" }',
        '      - { target: 53, protocol: udp }',
        '      - { target: 6000, published: "6000-6005" }',
        '      - { target: 7443, published: 7443, protocol: TCP }',
        '',
      ].join('\n'),
    });
    const port = (hostIp: string, published: number, target: number, protocol = 'tcp') => ({ service: 'web', hostIp, published, target, protocol });
    expect(configOf(dir).services[0]!.ports).toEqual([
      port('0.0.0.0', 8080, 80),
      port('127.0.0.1', 8081, 81, 'udp'),
      port('0.0.0.0', 9000, 90),
      port('0.0.0.0', 9001, 91),
      port('::1', 8444, 443),
      port('::', 8443, 8443),
      port('0.0.0.0', 7443, 7443),
    ]);
  });

  test('healthchecks: the file\'s test or the image\'s (timings only); not disable, not NONE; services of profiles not enabled left out; volumes sorted', () => {
    const dir = tmp({
      'compose.yaml': [
        'services:',
        '  checked: { image: a, healthcheck: { test: [CMD, "true"] } }',
        '  shell: { image: a, healthcheck: { test: "exit 0" } }',
        '  disabled: { image: a, healthcheck: { test: [CMD, "true"], disable: true } }',
        '  none: { image: a, healthcheck: { test: [NONE] } }',
        '  timings: { image: a, healthcheck: { interval: 5s } }',
        '  plain: { image: a }',
        '  debug: { image: a, profiles: [debug] }',
        'volumes:',
        '  zeta: {}',
        '  alpha: { external: true }',
        '  mid:',
        '',
      ].join('\n'),
    });
    const config = configOf(dir);
    expect(config.services.map((s) => [s.name, s.hasHealthcheck])).toEqual([
      ['checked', true],
      ['disabled', false],
      ['none', false],
      ['plain', false],
      ['shell', true],
      ['timings', true],
    ]);
    expect(config.volumes).toEqual(['alpha', 'mid', 'zeta']);
    expect(configOf(dir, { COMPOSE_PROFILES: 'debug' }).services.map((s) => s.name)).toContain('debug');
  });
});

describe('prepareStack reads each Compose file once', () => {
  const files = () => {
    const dir = tmp({
      'compose.yaml': 'name: my-app\nservices:\n  web:\n    build: ./web\n    ports: ["8080:80"]\n    x-stackport:\n      smoke:\n        - tcp: { port: 80 }\n',
      'override.yaml': 'services:\n  web:\n    build:\n      args: { V: "2" }\n  db:\n    image: postgres:16\n    healthcheck: { test: [CMD, pg_isready] }\nx-stackport:\n  smoke:\n    - tcp: { service: db, port: 5432 }\n',
      '.env': '',
    });
    return { dir, a: path.join(dir, 'compose.yaml'), b: path.join(dir, 'override.yaml') };
  };

  test('its files step (syntax, name, smoke checks) and its load (model, config) share one read of each file', () => {
    const { dir, a, b } = files();
    const spy = jest.spyOn(fs, 'readFileSync');
    try {
      const reads = (f: string) => spy.mock.calls.filter(([p]) => String(p) === f).length;
      const read = loadStackFiles({ root: dir, composeFile: [a, b], env: {} });
      expect([reads(a), reads(b)]).toEqual([1, 1]);
      expect(read.choice).toMatchObject({ name: 'my-app', nameFrom: "the file's name:", demo: false });
      expect(read.smoke.map((c) => c.name)).toEqual(['tcp db:5432 accepts connections', 'tcp web:80 accepts connections']);
      const { loaded, config } = loadStackModel(read, { envFile: path.join(dir, '.env'), project: read.choice.name, env: {}, root: dir });
      expect([reads(a), reads(b)]).toEqual([1, 1]);
      expect(loaded.app.services.map((s) => s.name)).toEqual(['web', 'db']);
      expect(config.services.map((s) => [s.name, s.hasHealthcheck])).toEqual([
        ['db', true],
        ['web', false],
      ]);
      // the two files merged: the override's args on the first file's build
      expect(config.services[1]!.build).toEqual({ context: path.join(dir, 'web'), dockerfile: 'Dockerfile', args: { V: '2' } });
      // the trees read are not changed by the load: a second load from them gives the same
      expect(loadStackModel(read, { envFile: path.join(dir, '.env'), project: read.choice.name, env: {}, root: dir }).config).toEqual(config);
      expect([reads(a), reads(b)]).toEqual([1, 1]);
    } finally {
      spy.mockRestore();
    }
  });

  test('a YAML error stops the files step, at file:line:col, with every file\'s problems (exit 2)', () => {
    const { dir, a } = files();
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"\n  db:\n    image: postgres\n');
    let err: unknown;
    try {
      loadStackFiles({ root: dir, composeFile: [a, bad], env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).exitCode).toBe(2);
    expect((err as ValidationError).problems.map((p) => p.located)).toEqual([
      'bad.yaml:5:3: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('a malformed smoke declaration stops the files step with its own message; a missing file is named', () => {
    const { dir } = files();
    const f = path.join(dir, 'smoke.yaml');
    writeFileSync(f, 'services:\n  web:\n    image: nginx\nx-stackport:\n  smoke:\n    - tcp: { service: nope, port: 80 }\n');
    let err: unknown;
    try {
      loadStackFiles({ root: dir, composeFile: f, env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).hint).toBe('fix the smoke declaration (x-stackport.smoke); nothing was started');
    expect((err as ValidationError).problems.map((p) => p.located)).toEqual(['smoke.yaml:6:23: x-stackport.smoke[0].tcp.service: no service "nope" in the file (services: web)']);
    expect(() => loadStackFiles({ root: dir, composeFile: path.join(dir, 'gone.yaml'), env: {} })).toThrow(/gone\.yaml: no such file$/);
  });

  test('semantic problems come from the load, at file:line:col (Compose refuses them too)', () => {
    const dir = tmp({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    depends_on: [nope]\n', '.env': '' });
    const read = loadStackFiles({ root: dir, composeFile: path.join(dir, 'compose.yaml'), env: {} });
    expect(() => loadStackModel(read, { envFile: path.join(dir, '.env'), project: 'x', env: {}, root: dir })).toThrow('compose.yaml:4:18: services.web.depends_on: unknown service "nope"');
  });
});
