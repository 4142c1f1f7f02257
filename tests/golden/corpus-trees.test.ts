/**
 * Every project of tests/corpus renders, without a cluster: loaded exactly as its args.json says
 * (files, env files, profiles, project directory and name, variables), `generate -o <tmp>` writes
 * a tree, and that tree is one kustomize can build: a kustomization.yaml at the top, and every
 * kustomization.yaml in it names only files and directories that exist inside the tree. A refusal
 * at load fails the project (the refused ones live in tests/corpus-rejected). The same trees then
 * meet a real API server in tests/e2e/generated-trees.test.ts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { corpusSources, renderTree } from './trees.js';

const sources = corpusSources();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stackport-corpus-trees-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Kustomization {
  resources?: string[];
  components?: string[];
  patches?: { path?: string }[];
  secretGenerator?: { envs?: string[]; files?: string[] }[];
  configMapGenerator?: { envs?: string[]; files?: string[] }[];
}

/** What a path named in a kustomization.yaml must be: a resource is a file or a kustomization directory. */
type Expected = 'file' | 'kustomization' | 'file or kustomization';
interface Reference {
  path: string;
  expected: Expected;
}

/** The paths a kustomization.yaml names, relative to its directory (`key=path` file sources by their path). */
function references(k: Kustomization): Reference[] {
  const generated = [...(k.secretGenerator ?? []), ...(k.configMapGenerator ?? [])];
  const files = generated.flatMap((g) => [...(g.envs ?? []), ...(g.files ?? []).map((f) => f.slice(f.indexOf('=') + 1))]);
  return [
    ...(k.resources ?? []).map((p): Reference => ({ path: p, expected: 'file or kustomization' })),
    ...(k.components ?? []).map((p): Reference => ({ path: p, expected: 'kustomization' })),
    ...[...(k.patches ?? []).flatMap((p) => (p.path ? [p.path] : [])), ...files].map((p): Reference => ({ path: p, expected: 'file' })),
  ];
}

function what(target: string): Expected | 'directory without a kustomization.yaml' {
  if (!statSync(target).isDirectory()) return 'file';
  return existsSync(path.join(target, 'kustomization.yaml')) ? 'kustomization' : 'directory without a kustomization.yaml';
}

function kustomizationFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name === 'kustomization.yaml') found.push(path.join(d, e.name));
    }
  };
  walk(root);
  return found;
}

/** What is wrong with the tree at `root` for kustomize, one line per problem (none: it builds as far as files go). */
function treeProblems(root: string): string[] {
  if (!existsSync(path.join(root, 'kustomization.yaml'))) return ['no kustomization.yaml at the top'];
  const problems: string[] = [];
  for (const file of kustomizationFiles(root)) {
    const dir = path.dirname(file);
    const shown = path.relative(root, file);
    const k = parse(readFileSync(file, 'utf8')) as Kustomization | null;
    if (!k?.resources?.length) problems.push(`${shown}: names no resources`);
    for (const ref of references(k ?? {})) {
      const target = path.resolve(dir, ref.path);
      const where = `${shown}: ${ref.path}`;
      if (path.relative(root, target).startsWith('..')) problems.push(`${where} is outside the tree`);
      else if (!existsSync(target)) problems.push(`${where} does not exist`);
      else if (!ref.expected.split(' or ').includes(what(target))) problems.push(`${where} is a ${what(target)}, not a ${ref.expected}`);
    }
  }
  return problems;
}

test('the whole corpus is here, the projects without a default Compose file name included', () => {
  expect(sources.length).toBeGreaterThanOrEqual(50);
  expect(sources.map((s) => s.name)).toEqual(expect.arrayContaining(['corpus/compose-file-env', 'corpus/compose-path-separator', 'corpus/project-directory', 'corpus/gitea-env-file', 'corpus/vaultwarden-caddy']));
});

describe('every corpus project renders into a tree kustomize can take', () => {
  test.each(sources.map((s) => [s.name, s] as const))('%s', async (name, source) => {
    const out = path.join(tmp, name.replace('/', '-'));
    await renderTree(source, out);
    expect(treeProblems(out)).toEqual([]);
  });
});
