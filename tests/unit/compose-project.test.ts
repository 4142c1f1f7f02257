/**
 * Loading a project the way Compose v2 does: the project directory's `.env`, the override
 * beside the default file, several -f files merged with Compose's rules, COMPOSE_FILE,
 * COMPOSE_PROFILES, COMPOSE_PROJECT_NAME, --env-file, --project-directory, include:, and the
 * three bugs of issue 10 that were the loader's.
 */
import path from 'node:path';
import { loadCompose, type LoadOptions } from '../../src/compose/load.js';
import { StackportError } from '../../src/errors.js';
import type { App } from '../../src/model/app.js';
import { problemsOf, scratchDirs, writeFiles } from './helpers/fixtures.js';

const scratch = scratchDirs('project');

function project(files: Record<string, string>, options: Partial<LoadOptions> = {}): App {
  const dir = writeFiles(scratch(), files);
  return loadCompose({ env: {}, cwd: dir, displayBase: dir, ...options });
}

const env = (app: App, svc: string) => Object.fromEntries(app.services.find((s) => s.name === svc)!.environment.map((v) => [v.name, v.template ?? v.value]));

describe('issue 10 bugs', () => {
  test('the .env in the project directory is read (UPLOAD_LOCATION becomes the bind source)', () => {
    const app = project({ 'compose.yaml': 'services:\n  s:\n    image: x\n    volumes:\n      - ${UPLOAD_LOCATION}:/data\n', '.env': 'UPLOAD_LOCATION=./library\n', 'library/.keep': '' });
    const m = app.services[0]!.mounts[0]!;
    expect(m.type).toBe('bind');
    expect(path.basename(m.source!)).toBe('library');
  });

  test('healthcheck {disable: false} without test is valid: no probe, a warning, nothing disabled', () => {
    const app = project({ 'compose.yaml': 'services:\n  s:\n    image: x\n    healthcheck:\n      disable: false\n      interval: 5s\n' });
    expect(app.services[0]!.healthcheck).toBeUndefined();
    expect(app.services[0]!.healthcheckDisabled).toBe(false);
    expect(app.warnings.map((w) => w.message).join('\n')).toMatch(/no test: Compose keeps the image's HEALTHCHECK/);
  });

  test('${X:?msg} unset inside an environment value that becomes a Secret is refused with file:line:col', () => {
    const dir = writeFiles(scratch(), { 'compose.yaml': 'services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: ${DB_PASSWORD:?set it in .env}\n' });
    const lines = problemsOf(() => loadCompose({ env: {}, cwd: dir, displayBase: dir }));
    expect(lines).toEqual(['compose.yaml:5:26: services.db.environment.POSTGRES_PASSWORD: required variable DB_PASSWORD is not set: set it in .env']);
    // The CLI refuses it too (exit 2), unless it generates a tree without values (`--env-file /dev/null`, filled in by --stage).
    expect(() => loadCompose({ env: {}, cwd: dir, displayBase: dir, requiredAtApply: 'empty-env-file' })).toThrow(/required variable DB_PASSWORD/);
    expect(loadCompose({ env: {}, cwd: dir, displayBase: dir, requiredAtApply: 'empty-env-file', envFiles: ['/dev/null'] }).services).toHaveLength(1);
    // A set variable passes; the value stays a template for apply time.
    const app = loadCompose({ env: { DB_PASSWORD: 'pw' }, cwd: dir, displayBase: dir });
    expect(app.services[0]!.environment[0]).toMatchObject({ secret: true, template: '${DB_PASSWORD:?set it in .env}' });
  });
});

describe('files and merging', () => {
  test('compose.override.yaml beside compose.yaml is merged; not when -f names the files', () => {
    const files = {
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n    command: ["a", "b"]\n    environment: [A=1, B=2]\n',
      'compose.override.yaml': 'services:\n  web:\n    ports: ["8443:443"]\n    command: c\n    environment:\n      B: over\n      C: "3"\n',
    };
    const app = project(files);
    const web = app.services[0]!;
    expect(web.ports.map((p) => `${p.published}:${p.target}`)).toEqual(['8080:80', '8443:443']);
    expect(web.command).toEqual(['c']);
    expect(env(app, 'web')).toEqual({ A: '1', B: 'over', C: '3' });
    expect(app.files!.map((f) => path.basename(f))).toEqual(['compose.yaml', 'compose.override.yaml']);
    const only = project(files, { files: ['compose.yaml'] });
    expect(only.services[0]!.ports).toHaveLength(1);
  });

  test('several -f files: volumes by target, depends_on list and mapping, healthcheck timings over a test', () => {
    const app = project(
      {
        'a.yaml': 'services:\n  app:\n    image: app\n    volumes: ["./one:/data", "cache:/cache"]\n    depends_on: [db]\n    healthcheck:\n      test: ["CMD", "true"]\n      interval: 5s\n  db:\n    image: pg\nvolumes:\n  cache: {}\n',
        'b.yaml': 'services:\n  app:\n    volumes: ["./two:/data"]\n    depends_on:\n      db:\n        condition: service_healthy\n    healthcheck:\n      interval: 1s\n',
        'one/.keep': '',
        'two/.keep': '',
      },
      { files: ['a.yaml', 'b.yaml'] },
    );
    const a = app.services.find((s) => s.name === 'app')!;
    expect(a.mounts.map((m) => `${m.type}:${path.basename(m.source ?? '')}:${m.target}`).sort()).toEqual(['bind:two:/data', 'volume:cache:/cache']);
    expect(a.dependsOn.map((d) => `${d.service}:${d.condition}`)).toEqual(['db:service_healthy']);
    expect(a.healthcheck).toMatchObject({ command: ['true'], intervalSeconds: 1 });
  });

  test('COMPOSE_FILE (from .env, with COMPOSE_PATH_SEPARATOR), COMPOSE_PROJECT_NAME and COMPOSE_PROFILES', () => {
    const app = project({
      '.env': 'COMPOSE_PATH_SEPARATOR=,\nCOMPOSE_FILE=one.yaml,two.yaml\nCOMPOSE_PROJECT_NAME=fromenv\nCOMPOSE_PROFILES=debug\n',
      'one.yaml': 'name: fromfile\nservices:\n  web:\n    image: httpd\n  dbg:\n    image: busybox\n    profiles: [debug]\n',
      'two.yaml': 'services:\n  web:\n    environment: [MODE=two]\n',
    });
    expect(app.name).toBe('fromenv');
    expect(app.services.map((s) => s.name)).toEqual(['web', 'dbg']);
    expect(env(app, 'web')).toEqual({ MODE: 'two' });
  });

  test('--env-file (several, later wins) replaces .env; the shell wins over both', () => {
    const files = { 'compose.yaml': 'services:\n  app:\n    image: "app:${V}"\n    ports: ["${P}:80"]\n', '.env': 'V=dotenv\nP=1\n', 'a.env': 'V=a\nP=2\n', 'b.env': 'V=b\n' };
    const app = project(files, { envFiles: ['a.env', 'b.env'], env: { P: '3' } });
    expect(app.services[0]!.image).toBe('app:b');
    expect(app.services[0]!.ports[0]!.published).toBe(3);
    expect(() => project(files, { envFiles: ['missing.env'] })).toThrow(/missing.env: env file not found/);
  });

  test('--project-directory: its .env and name, relative paths from there', () => {
    const app = project({ 'deploy/compose.yaml': 'services:\n  site:\n    image: "nginx:${TAG}"\n    volumes: ["./public:/html"]\n', '.env': 'TAG=1.27\n', 'public/.keep': '' }, { files: ['deploy/compose.yaml'], projectDirectory: '.' });
    expect(app.services[0]!.image).toBe('nginx:1.27');
    expect(app.services[0]!.mounts[0]!.source).not.toMatch(/deploy/);
  });

  test('a project name given as option or COMPOSE_PROJECT_NAME must be valid; `name:` is made valid', () => {
    expect(project({ 'compose.yaml': 'name: Demo_Shop\nservices:\n  a:\n    image: x\n' }).name).toBe('demo_shop');
    let error: unknown;
    try {
      project({ 'compose.yaml': 'services:\n  a:\n    image: x\n' }, { projectName: 'Bad' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackportError);
    expect((error as StackportError).exitCode).toBe(2);
    expect((error as StackportError).message).toMatch(/invalid project name "Bad"/);
  });

  test('each file is checked before merging: a later value does not hide an unset ${X:?} of an earlier file', () => {
    const dir = writeFiles(scratch(), {
      'compose.yaml': 'services:\n  app:\n    image: app\n    environment:\n      - LOG_LEVEL=${LEVEL:?}\n',
      'compose.override.yaml': 'services:\n  app:\n    environment:\n      - LOG_LEVEL=debug\n',
    });
    expect(problemsOf(() => loadCompose({ env: {}, cwd: dir, displayBase: dir }))).toEqual(['compose.yaml:5:9: services.app.environment.LOG_LEVEL: required variable LEVEL is not set']);
  });

  test('links, volumes_from and network_mode service:x imply depends_on, as in Compose', () => {
    const app = project({ 'compose.yaml': 'services:\n  app:\n    image: a\n    links: ["db:database"]\n  db:\n    image: pg\n  side:\n    image: b\n    network_mode: "service:app"\n    volumes_from: [db]\n' });
    const deps = (n: string) => app.services.find((s) => s.name === n)!.dependsOn.map((d) => `${d.service}:${d.condition}`);
    expect(deps('app')).toEqual(['db:service_started']);
    expect(deps('side').sort()).toEqual(['app:service_started', 'db:service_started']);
  });

  test('!reset and !override in a later file', () => {
    const app = project({
      'compose.yaml': 'services:\n  app:\n    image: app\n    ports: ["8080:80", "9090:90"]\n    environment: {A: "1"}\n',
      'compose.override.yaml': 'services:\n  app:\n    ports: !override ["8081:80"]\n    environment: !reset {}\n',
    });
    expect(app.services[0]!.ports.map((p) => p.published)).toEqual([8081]);
    expect(app.services[0]!.environment).toEqual([]);
  });
});

describe('include', () => {
  test('short form: paths relative to the included file, its own .env', () => {
    const app = project({
      'compose.yaml': 'include:\n  - infra/db.yaml\nservices:\n  app:\n    image: app\n    depends_on: [db]\n',
      'infra/db.yaml': 'services:\n  db:\n    image: "postgres:${PG}"\n    volumes: ["./init:/docker-entrypoint-initdb.d:ro"]\n',
      'infra/.env': 'PG=16\n',
      'infra/init/01.sql': '',
    });
    const db = app.services.find((s) => s.name === 'db')!;
    expect(db.image).toBe('postgres:16');
    expect(db.mounts[0]!.source).toMatch(/infra\/init$/);
  });

  test('long form with project_directory and env_file; a service defined on both sides is an error', () => {
    const app = project({
      'compose.yaml': 'include:\n  - path: ./mon/compose.yaml\n    env_file: ./mon/mon.env\nservices:\n  web:\n    image: caddy\n',
      'mon/compose.yaml': 'services:\n  prom:\n    image: "prom/prometheus:${PROM_TAG}"\n',
      'mon/mon.env': 'PROM_TAG=v2\n',
    });
    expect(app.services.find((s) => s.name === 'prom')!.image).toBe('prom/prometheus:v2');
    const dir = writeFiles(scratch(), { 'compose.yaml': 'include:\n  - other.yaml\nservices:\n  app:\n    image: a\n', 'other.yaml': 'services:\n  app:\n    image: b\n' });
    expect(problemsOf(() => loadCompose({ env: {}, cwd: dir, displayBase: dir }))).toEqual(['compose.yaml:4:3: services.app conflicts with the one imported from other.yaml']);
  });
});
