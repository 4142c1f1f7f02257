/**
 * Golden fixtures: each directory under fixtures/ is a Compose project.
 *   compose.yaml (+ whatever files it reads), optional `args` (extra CLI arguments),
 *   and either expected/ (the whole output tree) + expected-warnings.txt,
 *   or, for bad-* fixtures, expected-error.txt (the exact `file:line:col: message` lines; exit code 2).
 * UPDATE_GOLDEN=1 rewrites the expectations from the current output (review the diff!).
 *
 * Every expected tree is then built with `kubectl kustomize` for both overlays and the
 * built objects are validated against the Kubernetes schema (kubernetes-models, in a child
 * process because it is ESM only).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { StackportError, ValidationError } from '../../src/errors.js';
import { diffTree, readTree, writeTree } from '../../src/k8s/emit.js';
import { generateCommand } from '../../src/k8s/generate-command.js';
import { FIXTURES, fixtureArgs } from './trees.js';

const ROOT = path.resolve(__dirname, '../..');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(FIXTURES).filter((d) => existsSync(path.join(FIXTURES, d, 'compose.yaml'))).sort();
const malformed = cases.filter((c) => c.startsWith('bad-'));
const valid = cases.filter((c) => !c.startsWith('bad-'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stackport-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(dir: string, extra: string[]): Promise<{ code?: number; error?: unknown; warnings: string[] }> {
  const warnings: string[] = [];
  const io = { out: () => undefined, err: (l: string) => warnings.push(l), validator: async () => () => undefined, cwd: dir };
  try {
    const code = await generateCommand(['-f', 'compose.yaml', ...fixtureArgs(dir), ...extra], io);
    return { code, warnings };
  } catch (error) {
    return { error, warnings };
  }
}

test('there are at least 15 realistic and 15 malformed fixtures', () => {
  expect(valid.length).toBeGreaterThanOrEqual(15);
  expect(malformed.length).toBeGreaterThanOrEqual(15);
});

describe('valid fixtures produce the expected tree', () => {
  test.each(valid)('%s', async (name) => {
    const dir = path.join(FIXTURES, name);
    const out = path.join(tmp, 'out', name);
    const r = await run(dir, ['-o', out]);
    if (r.error) throw r.error;
    expect(r.code).toBe(0);
    const expectedDir = path.join(dir, 'expected');
    const warningsFile = path.join(dir, 'expected-warnings.txt');
    const warnings = r.warnings.join('\n') + (r.warnings.length ? '\n' : '');
    if (UPDATE) {
      rmSync(expectedDir, { recursive: true, force: true });
      writeTree(expectedDir, readTree(out));
      writeFileSync(warningsFile, warnings);
    }
    const diff = diffTree(readTree(expectedDir), readTree(out));
    expect(diff.text).toBe('');
    expect(warnings).toBe(readFileSync(warningsFile, 'utf8'));
    // --check against the expected tree agrees.
    const check = await run(dir, ['-o', expectedDir, '--check']);
    expect(check.error).toBeUndefined();
    expect(check.code).toBe(0);
  });
});

describe('malformed fixtures fail with the exact errors', () => {
  test.each(malformed)('%s', async (name) => {
    const dir = path.join(FIXTURES, name);
    const out = path.join(tmp, 'bad', name);
    const r = await run(dir, ['-o', out]);
    expect(r.error).toBeInstanceOf(StackportError);
    const err = r.error as StackportError;
    const lines = err instanceof ValidationError ? err.problems.map((p: StackportError) => p.located) : [err.located];
    const file = path.join(dir, 'expected-error.txt');
    if (UPDATE) writeFileSync(file, lines.join('\n') + '\n');
    expect(lines.join('\n') + '\n').toBe(readFileSync(file, 'utf8'));
    expect(err.exitCode).toBe(2);
    for (const l of lines) expect(l).toMatch(/^[^:\s]+:\d+:\d+: \S/);
    expect(existsSync(out)).toBe(false);
  });
});

test('a file over the size limit is refused with a clear message, before parsing', async () => {
  const dir = path.join(tmp, 'huge');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'compose.yaml'), `services:\n#${'x'.repeat(17 * 1024 * 1024 - 12)}\n`);
  const r = await run(dir, ['-o', path.join(tmp, 'huge-out')]);
  expect((r.error as StackportError).message).toBe('compose.yaml:1:1: file is 17 MiB, larger than the 16 MiB limit for a Compose file');
  expect((r.error as StackportError).exitCode).toBe(2);
});

/** A copy of the tree with placeholder files for the secretGenerators, as `--stage` would write. */
function stageWithPlaceholders(tree: string, into: string): void {
  cpSync(tree, into, { recursive: true });
  const k = parse(readFileSync(path.join(into, 'base', 'kustomization.yaml'), 'utf8')) as { secretGenerator?: { envs?: string[]; files?: string[] }[] };
  for (const g of k.secretGenerator ?? []) {
    for (const e of g.envs ?? []) {
      mkdirSync(path.dirname(path.join(into, 'base', e)), { recursive: true });
      writeFileSync(path.join(into, 'base', e), 'PLACEHOLDER=x\n');
    }
    for (const f of g.files ?? []) {
      const p = path.join(into, 'base', f.split('=').pop()!);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, 'x');
    }
  }
}

describe('every overlay builds with kubectl kustomize and passes the Kubernetes schema', () => {
  const built: { name: string; yaml: string }[] = [];
  test.each(valid)('%s', (name) => {
    const staged = path.join(tmp, 'staged', name);
    stageWithPlaceholders(path.join(FIXTURES, name, 'expected'), staged);
    for (const overlay of ['overlays/kind', 'overlays/kubeadm', '.']) {
      const yaml = execFileSync('kubectl', ['kustomize', path.join(staged, overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string });
      expect(docs.length).toBeGreaterThan(0);
      built.push({ name: `${name}/${overlay}`, yaml });
    }
  });

  test('schema validation of all built objects', () => {
    expect(built.length).toBe(valid.length * 3);
    const input = path.join(tmp, 'built.json');
    writeFileSync(input, JSON.stringify(built));
    const script = [
      `import { readFileSync } from 'node:fs';`,
      `import { parseAllDocuments } from 'yaml';`,
      `const { schemaValidator } = await import(${JSON.stringify(path.join(ROOT, 'src/k8s/validate.ts'))});`,
      `const validate = await schemaValidator();`,
      `const problems = []; let count = 0;`,
      `for (const b of JSON.parse(readFileSync(${JSON.stringify(input)}, 'utf8'))) for (const d of parseAllDocuments(b.yaml)) {`,
      `  const o = d.toJS(); if (!o) continue; count++;`,
      `  const p = validate(o); if (p) problems.push(b.name + ': ' + p);`,
      `}`,
      `process.stdout.write(JSON.stringify({ count, problems }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const { count, problems } = JSON.parse(r.stdout) as { count: number; problems: string[] };
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(valid.length * 3);
  });
});
