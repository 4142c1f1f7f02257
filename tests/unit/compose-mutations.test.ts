/**
 * Robustness: the golden fixtures, mutated (lines dropped, duplicated, values swapped for
 * other types). Every outcome must be output or a StackportError (one line per problem,
 * exit 2), never a TypeError with a stack trace. Deterministic (fixed seed).
 */
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadCompose } from '../../src/compose/load.js';
import { StackportError } from '../../src/errors.js';
import { renderFiles } from '../../src/k8s/emit.js';
import { DEFAULT_OPTIONS, transform } from '../../src/k8s/transform.js';
import { scratchDirs } from './helpers/fixtures.js';

const scratch = scratchDirs('mutations');

const FIXTURES = path.resolve(__dirname, '../golden/fixtures');
const VALUES = ['', '[]', '{}', 'null', '1', 'true', '"x"', '- a', 'a: b', '*nope', '&x y', '${X', '99999', '-1', '[1, [2]]', '{a: {b: c}}', 'yes', '0x1F', '"${A:?b}"'];

test.each(readdirSync(FIXTURES).sort())('mutations of %s never crash', (fixture) => {
  let seed = fixture.length * 7919;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const dir = scratch();
  cpSync(path.join(FIXTURES, fixture), dir, { recursive: true });
  const lines = readFileSync(path.join(FIXTURES, fixture, 'compose.yaml'), 'utf8').split('\n');
  let outcomes = 0;
  for (let i = 0; i < 40; i++) {
    const l = [...lines];
    const k = rnd(l.length);
    const op = rnd(4);
    if (op === 0) l.splice(k, 1);
    else if (op === 1) l[k] = l[k]!.replace(/:\s.*$/, `: ${VALUES[rnd(VALUES.length)]}`);
    else if (op === 2) l.splice(k, 0, l[rnd(l.length)]!);
    else l[k] = l[k]!.replace(/^(\s*)- .*$/, `$1- ${VALUES[rnd(VALUES.length)]}`);
    writeFileSync(path.join(dir, 'compose.yaml'), l.join('\n'));
    try {
      const app = loadCompose({ file: path.join(dir, 'compose.yaml'), env: {}, displayBase: dir });
      renderFiles(transform(app, { ...DEFAULT_OPTIONS, displayBase: dir }), { target: 'kind', source: 'compose.yaml' });
    } catch (e) {
      if (!(e instanceof StackportError)) throw new Error(`crash on:\n${l.join('\n')}\n${(e as Error).stack}`);
      for (const line of e.message.split('\n')) expect(line).toMatch(/^\S+:\d+:\d+: \S|^\S/);
    }
    outcomes++;
  }
  expect(outcomes).toBe(40);
});
