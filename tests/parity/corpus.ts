/**
 * The projects of a corpus directory (tests/corpus, tests/corpus-rejected): one directory per
 * project, with an optional args.json (ProjectArgs: how `docker compose` is run on it).
 * Read here once for every test that uses the corpus (parity, rendered trees, e2e).
 * Not a test file (no `.test.ts`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectArgs } from './shape.js';

export interface CorpusProject {
  /** The directory's name. */
  name: string;
  dir: string;
  /** args.json, or {} when there is none (docker compose run in `dir` with no flags). */
  args: ProjectArgs;
}

export const CORPUS = path.resolve(__dirname, '../corpus');
export const CORPUS_REJECTED = path.resolve(__dirname, '../corpus-rejected');

/** Every project directory under `base`, sorted by name (none when `base` does not exist). */
export function corpusProjects(base: string): CorpusProject[] {
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = path.join(base, name);
      const argsFile = path.join(dir, 'args.json');
      return { name, dir, args: existsSync(argsFile) ? (JSON.parse(readFileSync(argsFile, 'utf8')) as ProjectArgs) : {} };
    });
}
