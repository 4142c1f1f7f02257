/**
 * `generate` takes Compose's own options, as `docker compose` does: several -f (merged in order),
 * several --env-file (later wins), --project-directory, --profile, -p, and COMPOSE_FILE /
 * COMPOSE_PROFILES / COMPOSE_PROJECT_NAME from the environment. Bad input: one line, exit 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { StackportError, ValidationError } from '../../src/errors.js';
import { generateCommand, parseGenerateArgs } from '../../src/k8s/generate-command.js';
import { scratchDirs, writeFiles } from './helpers/fixtures.js';

const ROOT = path.resolve(__dirname, '../..');
const tmpdir = scratchDirs('generate-options');

const BASE = 'services:\n  web:\n    image: shop/web:${TAG:-dev}\n    ports: ["8080:80"]\n  tool:\n    image: busybox:1.36\n    profiles: [tools]\n';
const PROD = 'services:\n  web:\n    deploy:\n      replicas: 3\n';

async function gen(dir: string, args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await generateCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l), validator: async () => () => undefined, cwd: dir, env });
  return { code, out, err };
}

/** The Deployments of a generated tree, by name. */
function deployments(out: string): Map<string, { replicas: number; image: string }> {
  const found = new Map<string, { replicas: number; image: string }>();
  const kustomization = parseAllDocuments(readFileSync(path.join(out, 'base/kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
  for (const f of kustomization.resources) {
    for (const d of parseAllDocuments(readFileSync(path.join(out, 'base', f), 'utf8'))) {
      const o = d.toJS() as { kind: string; metadata: { name: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
      if (o?.kind === 'Deployment') found.set(o.metadata.name, { replicas: o.spec.replicas, image: o.spec.template.spec.containers[0]!.image });
    }
  }
  return found;
}

async function failure(run: () => Promise<unknown>): Promise<StackportError> {
  try {
    await run();
  } catch (e) {
    return e as StackportError;
  }
  throw new Error('expected a failure');
}

describe('parsing', () => {
  test('several -f and --env-file, in order; -p; --project-directory', () => {
    const a = parseGenerateArgs(['-f', 'a.yaml', '--file', 'b.yaml', '--env-file', 'x.env', '--env-file', 'y.env', '-p', 'shop', '--project-directory', 'app', '--profile', 'tools'], '/repo', {});
    expect(a).toMatchObject({ file: 'a.yaml', files: ['a.yaml', 'b.yaml'], envFile: 'x.env', envFiles: ['x.env', 'y.env'], projectName: 'shop', projectDirectory: 'app', profiles: ['tools'], demo: false });
  });
  test('no -f: the demo, unless COMPOSE_FILE or --project-directory names the project', () => {
    expect(parseGenerateArgs([], '/repo', {})).toMatchObject({ demo: true, file: 'compose/compose.yaml', projectName: 'stackport' });
    expect(parseGenerateArgs([], '/repo', { COMPOSE_FILE: 'x.yaml' })).toMatchObject({ demo: false, files: [], projectName: undefined });
    expect(parseGenerateArgs(['--project-directory', 'app'], '/repo', {})).toMatchObject({ demo: false, files: [] });
  });
  test.each([
    [['-f', ''], '--file needs a file name'],
    [['--env-file', ''], '--env-file needs a file name'],
    [['--project-directory', ''], '--project-directory needs a directory'],
    [['-p'], 'option --project-name needs a value'],
  ])('%p is refused with one line, exit 2', (argv, message) => {
    let err: StackportError | undefined;
    try {
      parseGenerateArgs(argv as string[], '/repo', {});
    } catch (e) {
      err = e as StackportError;
    }
    expect(err?.message).toContain(message);
    expect(err?.message).not.toContain('\n');
    expect(err?.exitCode).toBe(2);
  });
});

describe('the command', () => {
  test('-f a -f b merges in order; the later --env-file wins; -p names the namespace; --profile adds its service', async () => {
    const dir = writeFiles(tmpdir(), { 'compose.yaml': BASE, 'prod.yaml': PROD, 'a.env': 'TAG=1.0\n', 'b.env': 'TAG=2.0\n' });
    const r = await gen(dir, ['-f', 'compose.yaml', '-f', 'prod.yaml', '--env-file', 'a.env', '--env-file', 'b.env', '-p', 'shop', '--profile', 'tools', '-o', 'out']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^wrote out\/: \d+ objects for 2 services .* namespace shop$/);
    const d = deployments(path.join(dir, 'out'));
    expect(d.get('web')).toEqual({ replicas: 3, image: 'shop/web:2.0' });
    expect(d.get('tool')?.image).toBe('busybox:1.36');
    expect(readFileSync(path.join(dir, 'out/base/web.yaml'), 'utf8').split('\n')[0]).toContain('from compose.yaml + prod.yaml.');
  });
  test('COMPOSE_FILE (separator :), COMPOSE_PROFILES and COMPOSE_PROJECT_NAME write the tree -f, --profile and -p write', async () => {
    const dir = writeFiles(tmpdir(), { 'compose.yaml': BASE, 'prod.yaml': PROD });
    expect((await gen(dir, ['-o', 'env', '-q'], { COMPOSE_FILE: 'compose.yaml:prod.yaml', COMPOSE_PROFILES: 'tools', COMPOSE_PROJECT_NAME: 'viaenv' })).code).toBe(0);
    expect((await gen(dir, ['-f', 'compose.yaml', '-f', 'prod.yaml', '--profile', 'tools', '-p', 'viaenv', '-o', 'flags', '-q'])).code).toBe(0);
    const r = await gen(dir, ['-f', 'compose.yaml', '-f', 'prod.yaml', '--profile', 'tools', '-p', 'viaenv', '-o', 'env', '--check']);
    expect(r.out).toEqual(['env/ is up to date with compose.yaml + prod.yaml']);
    expect(deployments(path.join(dir, 'env')).get('web')?.replicas).toBe(3);
    expect([...deployments(path.join(dir, 'env')).keys()].sort()).toEqual(['tool', 'web']);
  });
  test('--project-directory: its .env and its name, its compose.yaml and override found there', async () => {
    const dir = writeFiles(tmpdir(), { 'app/compose.yaml': BASE, 'app/compose.override.yaml': PROD, 'app/.env': 'TAG=3.1\n' });
    const r = await gen(dir, ['--project-directory', 'app', '-o', 'out', '-q']);
    expect(r.code).toBe(0);
    expect(deployments(path.join(dir, 'out')).get('web')).toEqual({ replicas: 3, image: 'shop/web:3.1' });
    expect(readFileSync(path.join(dir, 'out/base/kustomization.yaml'), 'utf8')).toContain('namespace: app\n');
  });
  test('a missing -f file, env file or project directory: one line, exit 2, nothing written', async () => {
    const dir = writeFiles(tmpdir(), { 'compose.yaml': BASE });
    for (const [args, message] of [
      [['-f', 'compose.yaml', '-f', 'nope.yaml'], 'nope.yaml: Compose file not found'],
      [['-f', 'compose.yaml', '--env-file', 'nope.env'], 'nope.env: env file not found'],
      [['--project-directory', 'nope'], 'nope: project directory not found'],
    ] as const) {
      const e = await failure(() => gen(dir, [...args, '-o', 'out']));
      expect(e.message).toBe(message);
      expect(e.exitCode).toBe(2);
      expect(existsSync(path.join(dir, 'out'))).toBe(false);
    }
  });
  test("a problem in the second file is reported at that file's line and column", async () => {
    const dir = writeFiles(tmpdir(), { 'compose.yaml': BASE, 'bad.yaml': 'services:\n  web:\n    restart: sometimes\n' });
    const e = await failure(() => gen(dir, ['-f', 'compose.yaml', '-f', 'bad.yaml', '-o', 'out']));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toBe('bad.yaml:3:14: services.web.restart must be no, always, on-failure[:N] or unless-stopped, not "sometimes"');
    expect(e.exitCode).toBe(2);
  });
});

test('the script: a bad file among several -f exits 2 with file:line:col, no stack trace', () => {
  const dir = writeFiles(tmpdir(), { 'compose.yaml': BASE, 'bad.yaml': 'services:\n  web:\n    ports: ["x:80"]\n' });
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/lib/run.mjs'), path.join(ROOT, 'scripts/generate.mjs'), '-f', 'compose.yaml', '-f', 'bad.yaml', '-o', 'out'], { cwd: dir, encoding: 'utf8' });
  expect(r.stderr).toBe('error: bad.yaml:3:13: services.web.ports[1]: "x" is not a port number\nhint: fix the Compose file and run again\n');
  expect(r.status).toBe(2);
  expect(existsSync(path.join(dir, 'out'))).toBe(false);
}, 60_000);
