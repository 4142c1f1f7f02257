/**
 * Fixtures shared by the unit tests: temp projects on disk, loaded the way the CLI loads them.
 * Not a test file (no `.test.ts`), so jest's testMatch leaves it alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCompose, type LoadOptions } from '../../../src/compose/load.js';
import { ValidationError, type StackportError } from '../../../src/errors.js';
import type { App } from '../../../src/model/app.js';

/**
 * Call at the top of a test file: returns a maker of temp directories (`stackport-<tag>-XXXXXX`),
 * all removed after that file's tests.
 */
export function scratchDirs(tag: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(path.join(os.tmpdir(), `stackport-${tag}-`));
    dirs.push(d);
    return d;
  };
}

/** Writes `files` (path relative to `dir` -> text) under `dir`, making subdirectories; returns `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** `compose` as compose.yaml (plus `files`) in `dir`, loaded with an empty environment as project "demo". */
export function loadProject(dir: string, compose: string, files: Record<string, string> = {}, options: Partial<LoadOptions> = {}): App {
  writeFiles(dir, { 'compose.yaml': compose, ...files });
  return loadCompose({ file: path.join(dir, 'compose.yaml'), env: {}, displayBase: dir, projectName: 'demo', ...options });
}

/** The `file:line:col: message` lines of the ValidationError (exit code 2) that `run` must throw. */
export function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).exitCode).toBe(2);
    return (e as ValidationError).problems.map((p: StackportError) => p.located);
  }
  throw new Error('expected the file to be refused');
}
