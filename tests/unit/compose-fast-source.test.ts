/**
 * The fast YAML path (src/compose/fast-source.ts) gives the tree the `yaml` package gives,
 * positions included, or leaves the file to `yaml`: checked on every Compose and env-free YAML
 * file of the golden fixtures and the parity corpus, and on the bench's synthetic files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fastParse } from '../../src/compose/fast-source.js';
import { parseText } from '../../src/compose/source.js';

const ROOT = path.resolve(__dirname, '../..');

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const full = path.join(dir, e);
    if (statSync(full).isDirectory()) return e === 'expected' ? [] : yamlFiles(full);
    return /\.ya?ml$/.test(e) ? [full] : [];
  });
}

const files = ['tests/golden/fixtures', 'tests/corpus', 'tests/corpus-rejected', 'compose'].flatMap((d) => yamlFiles(path.join(ROOT, d))).sort();
const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Map ? Object.fromEntries(x) : x)));

test('there are files to compare', () => {
  expect(files.length).toBeGreaterThan(100);
});

let taken = 0;
test.each(files.map((f) => [path.relative(ROOT, f)]))('%s: the same tree, or left to yaml', (rel) => {
  const text = readFileSync(path.join(ROOT, rel), 'utf8');
  const slow = parseText(text, rel, undefined, false);
  const fast = parseText(text, rel);
  expect(plain(fast)).toEqual(plain(slow));
  if (fastParse(text, () => ({ file: rel, line: 0, col: 0 }))) taken++;
});

test('most files take the fast path', () => {
  expect(taken / files.length).toBeGreaterThan(0.5);
});

test.each([
  ['plain scalars typed as yaml types them', 'a: 1\nb: 1.50\nc: 0x1F\nd: 0o17\ne: true\nf: ~\ng: .inf\nh: 1e3\ni: "1"\nj: 08\nk: -0\nl: yes\nm:\n'],
  ['flow collections, comments, quoted keys', '# top\nx: [a, "b c", {k: v}]   # trailing\n"q k": {a: [1, 2], b: {}}\nlist:\n- a\n-   b\n- [ ]\n-\n- c: d\n  e: f\n'],
  ['multi-line plain and quoted scalars', 'a: one\n  two\nb: "x\n  y"\nc: \'it\'\'s\'\n'],
])('%s', (_name, text) => {
  expect(plain(parseText(text, 'x.yaml'))).toEqual(plain(parseText(text, 'x.yaml', undefined, false)));
});

test.each([
  ['spaces and comments after a colon', 'a: \nb: # c\nc:    v   # c\nd:\n  # only a comment\n  e: 1\n'],
  ['nested and compact sequences', 'a:\n  - - x\n    - y\n  - k: v\n    l: w\n  -\n  - ""\n1: one\n"<<": quoted merge key is a key\n'],
  ['duplicate keys: yaml words the error', 'a: 1\na: 2\n'],
  ['a syntax error: yaml words it', 'a: [1, 2\nb: 3\n'],
  ['anchors, aliases, merge keys, tags, block scalars: left to yaml', 'x: &d {a: 1}\ny: *d\nz:\n  <<: *d\n  b: !reset null\nw: |\n  text\n'],
  ['CRLF and document markers: left to yaml', '---\na: 1\r\n'],
])('%s', (_name, text) => {
  expect(plain(parseText(text, 'x.yaml'))).toEqual(plain(parseText(text, 'x.yaml', undefined, false)));
});

test('random documents: the same tree as yaml gives (fast-check, seed 20261201)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fc = require('fast-check') as typeof import('fast-check');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { stringify } = require('yaml') as typeof import('yaml');
  const key = fc.oneof(fc.constantFrom('image', 'ports', 'a b', '1', 'true', 'x-y', '-k', 'k:'), fc.string({ maxLength: 6 }));
  const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), fc.constantFrom('yes', '0x1F', '1e3', '08', '~', ' lead', 'a: b', 'a #b', '"q"', "it's", 'multi\nline'));
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(key, tie('tree'), { maxKeys: 4 })),
  }));
  const styles = [{}, { collectionStyle: 'flow' as const }, { defaultStringType: 'QUOTE_DOUBLE' as const }, { indentSeq: false }];
  fc.assert(
    fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), fc.nat(styles.length - 1), (doc, s) => {
      const text = stringify(doc, styles[s]);
      expect(plain(parseText(text, 'x.yaml'))).toEqual(plain(parseText(text, 'x.yaml', undefined, false)));
    }),
    { seed: 20261201, numRuns: 300 },
  );
});
