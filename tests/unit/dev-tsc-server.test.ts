/**
 * make dev's resident compiler (src/dev/tsc-server.cjs), run with this repo's TypeScript on a
 * small project in a temp dir, as make dev runs it in the api's `deps` stage: the real compiler,
 * one JSON line each way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
jest.setTimeout(60_000);

interface Reply {
  id: number;
  ok: boolean;
  outputs?: Record<string, string>;
  diagnostics?: string;
  ms: number;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const text = (r: Reply, f: string) => Buffer.from(r.outputs![f]!, 'base64').toString('utf8');

describe('resident tsc', () => {
  let dir: string;
  let child: ChildProcess;
  let buffered = '';
  const waiting = new Map<number, (r: Reply) => void>();
  let id = 0;
  const send = (files: Record<string, string | null>) =>
    new Promise<Reply>((resolve) => {
      waiting.set(++id, resolve);
      child.stdin!.write(`${JSON.stringify({ id, files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v === null ? null : b64(v)])) })}\n`);
    });

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'stackport-tsc-server-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(path.join(root, 'node_modules/typescript'), path.join(dir, 'node_modules/typescript'));
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', outDir: 'dist', rootDir: 'src', strict: true, types: [], lib: ['es2022'] }, include: ['src/**/*.ts'] }));
    child = spawn(process.execPath, [path.join(root, 'src/dev/tsc-server.cjs'), 'tsconfig.json'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout!.on('data', (c) => {
      buffered += String(c);
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const r = JSON.parse(buffered.slice(0, nl)) as Reply;
        buffered = buffered.slice(nl + 1);
        waiting.get(r.id)?.(r);
      }
    });
  });

  afterAll(() => {
    child.stdin!.end();
    rmSync(dir, { recursive: true, force: true });
  });

  test('emits the project, refuses syntax and type errors with tsc\'s own lines, then emits the fix', async () => {
    const first = await send({ 'src/a.ts': 'export const a: number = 1;\n', 'src/b.ts': "import { a } from './a';\nexport const b = a + 1;\n" });
    expect(first.ok).toBe(true);
    expect(Object.keys(first.outputs!)).toEqual(['a.js', 'b.js']);
    expect(text(first, 'b.js')).toContain('a_1.a + 1');

    const syntax = await send({ 'src/b.ts': "import { a } from './a';\nexport const b = a + ;\n" });
    expect(syntax.ok).toBe(false);
    expect(syntax.outputs).toBeUndefined();
    expect(syntax.diagnostics).toMatch(/^src\/b\.ts\(2,22\): error TS1109: Expression expected\./m);

    // a type error in a file the edit did not touch: the edit of a.ts affects b.ts
    const types = await send({ 'src/a.ts': "export const a: string = 'x';\n", 'src/b.ts': "import { a } from './a';\nexport const b: number = a;\n" });
    expect(types.ok).toBe(false);
    expect(types.diagnostics).toMatch(/src\/b\.ts\(2,14\): error TS2322: Type 'string' is not assignable to type 'number'\./);

    const fixed = await send({ 'src/b.ts': "import { a } from './a';\nexport const b: string = a + '!';\n" });
    expect(fixed.ok).toBe(true);
    expect(text(fixed, 'a.js')).toContain("exports.a = 'x'");
    expect(text(fixed, 'b.js')).toContain("a_1.a + '!'");
    // warm: a re-check of what changed, not a cold compile
    expect(fixed.ms).toBeLessThan(first.ms);
  });

  test('a deleted source is gone from the program (an import of it fails)', async () => {
    const r = await send({ 'src/a.ts': null });
    expect(r.ok).toBe(false);
    expect(r.diagnostics).toMatch(/src\/b\.ts\(1,19\): error TS2307: Cannot find module '\.\/a'/);
  });
});
