import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The shape of src/cluster/ (docs/cluster.md, "Where the code is"): no import cycle runs through
 * it, and what the providers use (build/, host/) never imports a provider back. Static, type-only,
 * dynamic (`import()`) and re-export imports all count: a cycle of any of them is a cycle a reader
 * has to untangle.
 */
const root = join(__dirname, '..', '..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const full = join(dir, e);
    return statSync(full).isDirectory() ? sources(full) : e.endsWith('.ts') ? [full] : [];
  });
}

/** The relative module specifiers a TypeScript file names (from, import(), export from). */
export function importsOf(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) found.add(m[1]!);
  return [...found];
}

/** file -> the .ts files it imports (the .js of the ESM specifier is the .ts beside it). */
function graphOf(files: string[]): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files) {
    const deps = importsOf(readFileSync(f, 'utf8'))
      .map((s) => resolve(dirname(f), s.replace(/\.js$/, '.ts')))
      .filter((d) => existsSync(d));
    g.set(f, deps);
  }
  return g;
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
export function cycles<T>(graph: Map<T, T[]>): T[][] {
  let next = 0;
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const stack: T[] = [];
  const onStack = new Set<T>();
  const out: T[][] = [];
  const visit = (v: T): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: T[] = [];
      let w: T;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const graph = graphOf(sources(src));
const rel = (f: string) => relative(src, f);

describe('the import scanner and the cycle finder', () => {
  it('finds static, type-only, dynamic and re-export imports', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from './c.js';",
      "const { d } = await import('./d.js');",
      "type E = import('./e.js').E;",
      "import { readFile } from 'node:fs/promises';",
    ].join('\n');
    expect(importsOf(text).sort()).toEqual(['../b/b.js', './a.js', './c.js', './d.js', './e.js']);
  });

  it('reports the cycle of detect() in provider.ts as it was (provider -> kind -> kubeadm -> provider), and none in a tree', () => {
    const was = new Map([
      ['provider', ['kind', 'kubeadm']],
      ['kind', ['kubeadm', 'provider']],
      ['kubeadm', ['provider', 'images']],
      ['images', []],
    ]);
    expect(cycles(was).map((c) => c.sort())).toEqual([['kind', 'kubeadm', 'provider']]);
    expect(cycles(new Map([['detect', ['kind', 'provider']], ['kind', ['provider']], ['provider', []]]))).toEqual([]);
    expect(cycles(new Map([['self', ['self']]]))).toEqual([['self']]);
  });

  it('reads the real tree', () => {
    expect(graph.get(join(src, 'cluster', 'providers', 'detect.ts'))?.map(rel)).toEqual(
      expect.arrayContaining(['cluster/providers/kubeadm.ts', 'cluster/providers/kind.ts', 'cluster/providers/kubeconfig.ts']),
    );
  });
});

describe('src/cluster/', () => {
  it('has no import cycle running through it', () => {
    const through = cycles(graph).filter((c) => c.some((f) => rel(f).startsWith('cluster/')));
    expect(through.map((c) => c.map(rel).sort())).toEqual([]);
  });

  it('is in rooms: providers, build, host, addons (plus the command and kubectl at the top)', () => {
    const top = readdirSync(join(src, 'cluster')).sort();
    expect(top).toEqual(['addons', 'build', 'command.ts', 'host', 'kubectl.ts', 'providers']);
  });

  it('build/ and host/ import nothing of providers/ but the interface (provider.ts)', () => {
    const wrong: string[] = [];
    for (const [f, deps] of graph) {
      if (!/^cluster\/(build|host)\//.test(rel(f))) continue;
      for (const d of deps) if (rel(d).startsWith('cluster/providers/') && rel(d) !== 'cluster/providers/provider.ts') wrong.push(`${rel(f)} -> ${rel(d)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('no provider imports detect.ts (selection sits above the providers)', () => {
    const importers = [...graph].filter(([, deps]) => deps.some((d) => rel(d) === 'cluster/providers/detect.ts')).map(([f]) => rel(f));
    expect(importers.filter((f) => f.startsWith('cluster/providers/'))).toEqual([]);
  });
});
