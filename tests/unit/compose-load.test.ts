import path from 'node:path';
import { loadCompose, type LoadOptions } from '../../src/compose/load.js';
import { isSecretName } from '../../src/compose/normalize.js';
import type { App } from '../../src/model/app.js';
import { loadProject, problemsOf, scratchDirs, writeFiles } from './helpers/fixtures.js';

const scratch = scratchDirs('load');

function load(compose: string, options: Partial<LoadOptions> = {}, files: Record<string, string> = {}): App {
  return loadProject(scratch(), compose, files, options);
}

function problems(compose: string, options: Partial<LoadOptions> = {}, files: Record<string, string> = {}): string[] {
  return problemsOf(() => load(compose, options, files));
}

const svc = (app: App, name: string) => app.services.find((s) => s.name === name)!;

describe('ports', () => {
  test('short syntax in all its forms', () => {
    const app = load(`services:
  a:
    image: x
    ports:
      - 80
      - "8080:80"
      - "127.0.0.1:5432:5432"
      - "53:53/udp"
      - "[::1]:9153:9153"
      - "3000-3002:4000-4002"
      - "9000-9001"
`);
    expect(svc(app, 'a').ports.map((p) => [p.hostIp ?? '', p.published ?? 0, p.target, p.protocol])).toEqual([
      ['', 0, 80, 'TCP'],
      ['', 8080, 80, 'TCP'],
      ['127.0.0.1', 5432, 5432, 'TCP'],
      ['', 53, 53, 'UDP'],
      ['::1', 9153, 9153, 'TCP'],
      ['', 3000, 4000, 'TCP'],
      ['', 3001, 4001, 'TCP'],
      ['', 3002, 4002, 'TCP'],
      ['', 0, 9000, 'TCP'],
      ['', 0, 9001, 'TCP'],
    ]);
  });

  test('long syntax', () => {
    const app = load(`services:
  a:
    image: x
    ports:
      - target: 80
        published: "8080"
        host_ip: 127.0.0.1
        protocol: udp
        mode: host
`);
    expect(svc(app, 'a').ports).toEqual([{ target: 80, published: 8080, hostIp: '127.0.0.1', protocol: 'UDP', pos: { file: 'compose.yaml', line: 5, col: 9 } }]);
  });

  test('out of range and malformed ports are reported with positions', () => {
    expect(problems('services:\n  a:\n    image: x\n    ports: ["0:80", "8080:65536", "a:b", 80.5]\n')).toEqual([
      'compose.yaml:4:13: services.a.ports[0]: port 0 is out of range (1-65535)',
      'compose.yaml:4:21: services.a.ports[1]: port 65536 is out of range (1-65535)',
      'compose.yaml:4:35: services.a.ports[2]: "b" is not a port number',
      'compose.yaml:4:42: services.a.ports[3]: "80.5" is not a port number',
    ]);
  });
});

describe('environment', () => {
  test('list and map forms, types kept as written, env_file under environment', () => {
    const app = load(
      `services:
  a:
    image: x
    env_file: [base.env]
    environment:
      DEBUG: true
      MODE: off
      WORKERS: 4
      RATIO: 1.0
      FROM_FILE_OVERRIDE: compose
`,
      {},
      { 'base.env': 'FROM_FILE=1\nFROM_FILE_OVERRIDE=file\n' },
    );
    expect(svc(app, 'a').environment.map((e) => [e.name, e.value])).toEqual([
      ['FROM_FILE', '1'],
      ['FROM_FILE_OVERRIDE', 'compose'],
      ['DEBUG', 'true'],
      ['MODE', 'off'],
      ['WORKERS', '4'],
      ['RATIO', '1.0'],
    ]);
    const list = load('services:\n  a:\n    image: x\n    environment:\n      - A=1\n      - B=x=y\n      - C\n');
    expect(svc(list, 'a').environment.map((e) => [e.name, e.value, e.template])).toEqual([
      ['A', '1', undefined],
      ['B', 'x=y', undefined],
      ['C', '', '${C}'],
    ]);
  });

  test('values with variables are kept as templates (resolved at apply time), never resolved now', () => {
    const app = load('services:\n  a:\n    image: x\n    environment:\n      PASSWORD: ${DB_PASSWORD:?required}\n      HOST: db\n      PRICE: "$$5"\n', { env: { DB_PASSWORD: 'hunter2' } });
    const env = svc(app, 'a').environment;
    expect(env[0]).toMatchObject({ name: 'PASSWORD', value: '', template: '${DB_PASSWORD:?required}', secret: true });
    expect(env[1]).toMatchObject({ name: 'HOST', value: 'db', secret: false });
    expect(env[2]).toMatchObject({ name: 'PRICE', value: '$5' });
    expect(JSON.stringify(app)).not.toContain('hunter2');
  });

  test.each([
    ['POSTGRES_PASSWORD', true],
    ['RABBITMQ_DEFAULT_PASS', true],
    ['API_KEY', true],
    ['GITHUB_TOKEN', true],
    ['SESSION_SECRET', true],
    ['AWS_SECRET_ACCESS_KEY', true],
    ['DB_PASSWD', true],
    ['MYSQL_PASSWORD_FILE', false],
    ['KEYBOARD_LAYOUT', false],
    ['PGHOST', false],
    ['TOKEN_TTL', false],
  ])('%s says secret: %s', (name, secret) => expect(isSecretName(name)).toBe(secret));
});

describe('interpolation', () => {
  test('uses the env file, the shell environment wins, $$ escapes', () => {
    const app = load('services:\n  a:\n    image: ${IMAGE}:${TAG:-1}\n    command: echo $$HOME\n', { envFile: undefined, env: { IMAGE: 'repo/app' } });
    expect(svc(app, 'a').image).toBe('repo/app:1');
    expect(svc(app, 'a').command).toEqual(['echo', '$HOME']);
    const dir = writeFiles(scratch(), { 'compose.yaml': 'services:\n  a:\n    image: ${IMAGE}:${TAG}\n', 'vars.env': 'IMAGE=from-file\nTAG=2\n' });
    const withFile = loadCompose({ file: path.join(dir, 'compose.yaml'), envFile: path.join(dir, 'vars.env'), env: { TAG: 'shell' }, displayBase: dir });
    expect(withFile.services[0]!.image).toBe('from-file:shell');
  });

  test('required variables name the key and position', () => {
    expect(problems('services:\n  a:\n    image: ${IMAGE:?pick an image}\n')).toEqual(['compose.yaml:3:12: services.a.image: required variable IMAGE is not set: pick an image']);
  });
});

describe('anchors and merge keys', () => {
  test('merge keys apply, explicit keys win, aliases copy', () => {
    const app = load(`x-base: &base
  image: base:1
  environment: &env
    A: "1"
    B: "2"
services:
  one:
    <<: *base
    environment:
      <<: *env
      B: "override"
  two:
    <<: *base
    image: other:2
`);
    expect(svc(app, 'one').image).toBe('base:1');
    expect(svc(app, 'one').environment.map((e) => `${e.name}=${e.value}`)).toEqual(['B=override', 'A=1']);
    expect(svc(app, 'two').image).toBe('other:2');
  });

  test('an alias bomb is refused quickly', () => {
    const levels = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      levels.push(`x-${n}: &${n} [${Array(10).fill(`*${p}`).join(',')}]`);
    }
    const started = Date.now();
    const lines = problems(`${levels.join('\n')}\nservices:\n  a:\n    image: x\n    command: *i\n`);
    expect(lines).toEqual(['compose.yaml:2:10: YAML aliases expand past the limit of 10000 (a possible "billion laughs" alias bomb); refusing to expand them']);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('extends', () => {
  test('from another file: merges maps, adds ports, replaces command, rebases paths', () => {
    const app = load(
      `services:
  web:
    extends:
      file: lib/base.yaml
      service: app
    command: ["serve"]
    ports: ["8080:80"]
    environment:
      LEVEL: debug
`,
      {},
      {
        'lib/base.yaml': `services:
  app:
    build: ./src
    command: ["old"]
    ports: ["9090:90"]
    env_file: app.env
    environment:
      LEVEL: info
      NAME: base
`,
        'lib/app.env': 'FROM_BASE_FILE=yes\n',
      },
    );
    const web = svc(app, 'web');
    expect(web.command).toEqual(['serve']);
    expect(web.ports.map((p) => p.target)).toEqual([90, 80]);
    expect(web.environment.map((e) => `${e.name}=${e.value}`)).toEqual(['FROM_BASE_FILE=yes', 'LEVEL=debug', 'NAME=base']);
    expect(web.build?.context).toBe('./lib/src');
    expect(web.image).toBe('demo-web');
  });

  test('chains in the same file; cycles are reported once', () => {
    const app = load('services:\n  a:\n    image: a:1\n    environment: [X=1]\n  b:\n    extends: a\n  c:\n    extends: b\n    environment: [Y=2]\n');
    expect(svc(app, 'c').image).toBe('a:1');
    expect(svc(app, 'c').environment.map((e) => e.name)).toEqual(['X', 'Y']);
    expect(problems('services:\n  a:\n    extends: b\n  b:\n    extends: a\n')).toEqual(['compose.yaml:3:5: services.a.extends: extends cycle a -> b -> a']);
  });
});

describe('profiles', () => {
  const file = 'services:\n  app:\n    image: a\n  tool:\n    image: t\n    profiles: [debug]\n  other:\n    image: o\n    profiles: [x, debug]\n';
  test('services with profiles are off unless one is enabled', () => {
    expect(load(file).services.map((s) => s.name)).toEqual(['app']);
    expect(load(file, { profiles: ['debug'] }).services.map((s) => s.name)).toEqual(['app', 'tool', 'other']);
    expect(load(file, { profiles: ['*'] }).services).toHaveLength(3);
    expect(load(file, { env: { COMPOSE_PROFILES: 'x' } }).services.map((s) => s.name)).toEqual(['app', 'other']);
  });
});

describe('depends_on', () => {
  test('short and long syntax, optional missing services are dropped', () => {
    const app = load('services:\n  a:\n    image: a\n    depends_on:\n      b: {condition: service_healthy}\n      gone: {condition: service_started, required: false}\n  b:\n    image: b\n    depends_on: [c]\n  c:\n    image: c\n');
    expect(svc(app, 'a').dependsOn.map((d) => [d.service, d.condition])).toEqual([['b', 'service_healthy']]);
    expect(svc(app, 'b').dependsOn.map((d) => [d.service, d.condition])).toEqual([['c', 'service_started']]);
  });

  test('unknown services and cycles', () => {
    expect(problems('services:\n  a:\n    image: a\n    depends_on: [b, nope]\n  b:\n    image: b\n    depends_on: [a]\n')).toEqual([
      'compose.yaml:4:18: services.a.depends_on: dependency cycle a -> b -> a',
      'compose.yaml:4:21: services.a.depends_on: unknown service "nope"',
    ]);
  });
});

describe('volumes', () => {
  test('named, bind (file, directory, missing, outside the project), anonymous, tmpfs, long syntax', () => {
    const app = load(
      'services:\n  a:\n    image: a\n    volumes:\n      - data:/data\n      - ./conf/app.ini:/etc/app.ini:ro\n      - ./html:/usr/share/html\n      - ./nope:/nope\n      - /etc/localtime:/etc/localtime:ro\n      - /cache\n      - type: tmpfs\n        target: /run\n    tmpfs: /tmp\nvolumes:\n  data:\n',
      {},
      { 'conf/app.ini': '[x]\n', 'html/index.html': 'hi' },
    );
    expect(svc(app, 'a').mounts.map((m) => [m.type, m.sourceText ?? m.source ?? '', m.target, m.readOnly, m.hostKind ?? ''])).toEqual([
      ['volume', 'data', '/data', false, ''],
      ['bind', './conf/app.ini', '/etc/app.ini', true, 'file'],
      ['bind', './html', '/usr/share/html', false, 'directory'],
      ['bind', './nope', '/nope', false, 'missing'],
      ['bind', '/etc/localtime', '/etc/localtime', true, 'host'],
      ['volume', '', '/cache', false, ''],
      ['tmpfs', '', '/run', false, ''],
      ['tmpfs', '', '/tmp', false, ''],
    ]);
  });

  test('undeclared named volumes are errors', () => {
    expect(problems('services:\n  a:\n    image: a\n    volumes: ["data:/data"]\n')).toEqual(['compose.yaml:4:15: services.a.volumes[0]: volume "data" is not declared under the top-level volumes key']);
  });
});

describe('healthcheck', () => {
  test.each([
    ['["CMD", "curl", "-f", "http://x"]', 'exec', ['curl', '-f', 'http://x']],
    ['["CMD-SHELL", "curl -f http://x || exit 1"]', 'shell', ['curl -f http://x || exit 1']],
    ['curl -f http://x', 'shell', ['curl -f http://x']],
  ])('test %s', (test, kind, command) => {
    const app = load(`services:\n  a:\n    image: a\n    healthcheck:\n      test: ${test}\n      interval: 1m\n      timeout: 5s\n      retries: 2\n      start_period: 30s\n`);
    expect(svc(app, 'a').healthcheck).toMatchObject({ kind, command, intervalSeconds: 60, timeoutSeconds: 5, retries: 2, startPeriodSeconds: 30 });
  });
  test('NONE and disable turn it off; defaults are Docker\'s', () => {
    for (const hc of ['test: ["NONE"]', 'disable: true']) {
      const a = svc(load(`services:\n  a:\n    image: a\n    healthcheck:\n      ${hc}\n`), 'a');
      expect(a.healthcheck).toBeUndefined();
      expect(a.healthcheckDisabled).toBe(true);
    }
    expect(svc(load('services:\n  a:\n    image: a\n    healthcheck:\n      test: "true"\n'), 'a').healthcheck).toMatchObject({ intervalSeconds: 30, timeoutSeconds: 30, retries: 3 });
  });
});

describe('deploy and the rest', () => {
  test('deploy keys, restart, user, command, build-only image name', () => {
    const app = load(`services:
  a:
    build: .
    restart: on-failure:5
    user: "1000:1000"
    entrypoint: /entry.sh
    command: ["--flag", "x"]
    working_dir: /app
    stop_grace_period: 1m
    deploy:
      mode: global
      resources:
        limits: {cpus: "0.5", memory: 512M}
      placement:
        constraints: ["node.labels.disk == ssd", "node.hostname != n1", "engine.labels.x == y"]
  b:
    image: b
    deploy:
      replicas: 3
      update_config: {order: start-first, parallelism: 2}
      restart_policy: {condition: any}
`);
    const a = svc(app, 'a');
    expect(a).toMatchObject({ image: 'demo-a', built: true, restart: 'on-failure', maxRestartAttempts: 5, user: '1000:1000', entrypoint: ['/entry.sh'], command: ['--flag', 'x'], workingDir: '/app', stopGracePeriodSeconds: 60, mode: 'global' });
    expect(a.limits).toEqual({ cpus: '0.5', memoryBytes: 512 * 1024 * 1024 });
    expect(a.placement.map((p) => [p.key, p.operator, p.value])).toEqual([
      ['disk', 'In', 'ssd'],
      ['kubernetes.io/hostname', 'NotIn', 'n1'],
    ]);
    expect(app.warnings.map((w) => w.message)).toContain('services.a.deploy.placement.constraints: "engine.labels.x == y" has no Kubernetes equivalent; ignored');
    expect(svc(app, 'b')).toMatchObject({ replicas: 3, update: { order: 'start-first', parallelism: 2 }, restart: 'always' });
  });

  test('host-only keys warn with their position', () => {
    const app = load('services:\n  a:\n    image: a\n    devices: ["/dev/fuse"]\n    network_mode: host\n');
    expect(app.warnings.map((w) => `${w.pos?.line}:${w.pos?.col} ${w.message}`)).toEqual([
      '4:5 services.a.devices: host devices are not passed to pods; ignored',
      '5:5 services.a.network_mode: pods have their own network namespace; ignored (the service keeps its Service and NetworkPolicy)',
    ]);
  });

  test('all problems of a file come at once, in file order', () => {
    expect(problems('services:\n  a:\n    image: a\n    replicas: 2\n    restart: maybe\n  b:\n    ports: ["99999:1"]\n')).toEqual([
      'compose.yaml:4:5: services.a: unknown key "replicas"',
      'compose.yaml:5:14: services.a.restart must be no, always, on-failure[:N] or unless-stopped, not "maybe"',
      'compose.yaml:6:3: services.b needs an image or a build',
      'compose.yaml:7:13: services.b.ports[0]: port 99999 is out of range (1-65535)',
    ]);
  });

  test('project name: option, then `name:`, then the directory', () => {
    expect(load('name: My_App\nservices:\n  a:\n    image: a\n', { projectName: undefined }).name).toBe('my_app');
    expect(load('services:\n  a:\n    image: a\n', { projectName: undefined, env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).name).toBe('fromenv');
  });

  test('empty and non-mapping files', () => {
    expect(problems('')).toEqual(['compose.yaml:1:1: empty file: a Compose file needs a `services` mapping']);
    expect(problems('services:\n')).toEqual(['compose.yaml:1:10: no `services` defined']);
    expect(problems('services: []\n')).toEqual(['compose.yaml:1:11: services must be a mapping, not a list']);
  });
});
