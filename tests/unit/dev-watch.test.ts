import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../src/exec/run.js';
import { tarOf } from '../../src/dev/archive.js';
import { contextFiles } from '../../src/dev/compile.js';
import { watchContexts, type Change } from '../../src/dev/watch.js';
import { waitFor } from '../../src/exec/wait.js';
import { scratchDirs, writeFiles } from './helpers/fixtures.js';

const scratch = scratchDirs('devwatch');

function context(): string {
  return writeFiles(scratch(), {
    '.dockerignore': 'node_modules\ndist\n*.log\n!keep.log\n',
    'Dockerfile': 'FROM scratch\n',
    'src/a.ts': 'a',
    'node_modules/x/index.js': 'x',
    'dist/a.js': 'a',
    'debug.log': 'noise',
    'keep.log': 'kept',
  });
}

describe('watching a build context', () => {
  test('a burst of saves is one change; .dockerignore\'d files never count', async () => {
    const dir = context();
    const changes: Change[] = [];
    const w = watchContexts([{ service: 'api', context: dir }], (c) => changes.push(c), { quietMs: 300 });
    await w.ready;
    try {
      for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, 'src/a.ts'), `a${i}`);
      writeFileSync(path.join(dir, 'src/b.ts'), 'b');
      writeFileSync(path.join(dir, 'node_modules/x/index.js'), 'y');
      writeFileSync(path.join(dir, 'dist/a.js'), 'z');
      writeFileSync(path.join(dir, 'debug.log'), 'more noise');
      await waitFor('one change', async () => changes.length >= 1, { timeoutMs: 10_000, intervalMs: 50 });
      // a later, separate edit is a change of its own
      rmSync(path.join(dir, 'src/b.ts'));
      mkdirSync(path.join(dir, 'src/new'));
      writeFileSync(path.join(dir, 'src/new/c.ts'), 'c');
      await waitFor('the second change', async () => changes.length >= 2, { timeoutMs: 10_000, intervalMs: 50 });
    } finally {
      await w.close();
    }
    expect(changes[0]).toMatchObject({ service: 'api', files: ['src/a.ts', 'src/b.ts'], removed: [] });
    expect(changes[1]).toMatchObject({ files: ['src/b.ts', 'src/new/c.ts'], removed: ['src/b.ts'] });
    expect(changes).toHaveLength(2);
  });

  test('the files a build sees, as .dockerignore says (exceptions included)', () => {
    expect(contextFiles(context())).toEqual(['.dockerignore', 'Dockerfile', 'keep.log', 'src/a.ts']);
  });
});

describe('the archive copied into containers', () => {
  test('file entries only, laid out from /, with the files\' content', async () => {
    const dir = context();
    const archive = await tarOf([
      { from: path.join(dir, 'src/a.ts'), to: '/app/dist/a.ts' },
      { from: path.join(dir, 'keep.log'), to: '/usr/share/nginx/html/deep/keep.log' },
    ]);
    const out = scratch();
    writeFileSync(path.join(out, 'x.tar'), archive);
    const listed = (await run(['tar', '-tvf', path.join(out, 'x.tar')])).stdout.trim().split('\n');
    expect(listed.map((l) => l.split(/\s+/).pop())).toEqual(['app/dist/a.ts', 'usr/share/nginx/html/deep/keep.log']);
    expect(listed.every((l) => l.startsWith('-'))).toBe(true);
    await run(['tar', '-xf', path.join(out, 'x.tar'), '-C', out]);
    expect(readFileSync(path.join(out, 'usr/share/nginx/html/deep/keep.log'), 'utf8')).toBe('kept');
  });
});
