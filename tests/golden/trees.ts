/**
 * The projects whose generated trees the tests check, and how each is rendered: `generate -o <dir>`
 * run in the project's directory as a user runs it.
 *  - every project of tests/corpus, with the flags and environment its args.json gives
 *    (tests/parity/corpus.ts, the same projects and arguments the parity test runs Compose on);
 *  - every valid golden fixture (tests/golden/fixtures/<name>/, not bad-*), with its `args`.
 * One place, so the fast check (corpus-trees.test.ts) and the API server check
 * (tests/e2e/generated-trees.test.ts) render the same trees. Not a test file (no `.test.ts`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateCommand } from '../../src/k8s/generate-command.js';
import { CORPUS, corpusProjects } from '../parity/corpus.js';
import { projectEnv, projectFlags, type ProjectArgs } from '../parity/shape.js';

export const FIXTURES = path.join(__dirname, 'fixtures');

export interface TreeSource {
  /** `corpus/<name>` or `golden/<name>`. */
  name: string;
  dir: string;
  /** generate's arguments, without -o. */
  argv: string[];
  /** The environment generate sees (undefined: the process's own). */
  env?: Record<string, string>;
}

/** A golden fixture's extra CLI arguments (its `args` file, words separated by white space). */
export function fixtureArgs(dir: string): string[] {
  const f = path.join(dir, 'args');
  return existsSync(f) ? readFileSync(f, 'utf8').split(/\s+/).filter(Boolean) : [];
}

/**
 * generate's arguments for a corpus project: the flags of its args.json. Without -f and without a
 * project directory, Compose loads the working directory's project (COMPOSE_FILE, else compose.yaml);
 * generate alone would render its demo, so it is told `--project-directory .`, the same project.
 */
export function corpusArgv(args: ProjectArgs): string[] {
  const flags = projectFlags(args);
  return args.files?.length || args.projectDirectory ? flags : [...flags, '--project-directory', '.'];
}

/** Every project of tests/corpus (none skipped), run with its args.json in a clean environment plus its own variables. */
export function corpusSources(base = CORPUS): TreeSource[] {
  return corpusProjects(base).map((p) => ({ name: `corpus/${p.name}`, dir: p.dir, argv: corpusArgv(p.args), env: projectEnv(p.args) }));
}

/** Every valid golden fixture, run as tests/golden/golden.test.ts runs it. */
export function goldenSources(): TreeSource[] {
  return readdirSync(FIXTURES)
    .filter((n) => !n.startsWith('bad-') && existsSync(path.join(FIXTURES, n, 'compose.yaml')))
    .sort()
    .map((n) => {
      const dir = path.join(FIXTURES, n);
      return { name: `golden/${n}`, dir, argv: ['-f', 'compose.yaml', ...fixtureArgs(dir)] };
    });
}

/**
 * `generate -o <out>` for a source, then `extra` (a later flag wins: `--namespace x`). Objects are
 * not schema-checked here (kubernetes-models is ESM only); the API server (e2e) and the golden test's
 * child process do that. Resolves with generate's warnings; throws what generate throws (a project
 * refused at load: StackportError with exit code 2).
 */
export async function renderTree(source: TreeSource, out: string, extra: string[] = []): Promise<string[]> {
  const warnings: string[] = [];
  const io = { out: () => undefined, err: (l: string) => warnings.push(l), validator: async () => () => undefined, cwd: source.dir, env: source.env };
  const code = await generateCommand([...source.argv, '-o', out, ...extra, '-q'], io);
  if (code !== 0) throw new Error(`generate ${[...source.argv, '-o', out, ...extra].join(' ')} in ${source.dir} exited ${code}`);
  return warnings;
}
