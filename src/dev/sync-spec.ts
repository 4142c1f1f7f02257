/**
 * `x-stackport: { dev: { sync: [...] } }` on a service: what `make dev` copies into the running
 * containers or pods instead of rebuilding the image.
 *
 *   x-stackport:
 *     dev:
 *       sync:
 *         - src: html/                       # in the build context (a directory ends with /)
 *           dest: /usr/share/nginx/html/     # in the container
 *         - src: src/
 *           dest: /app/dist/
 *           compile:                         # optional: made into what is copied, first
 *             stage: deps                    #   a Dockerfile stage with the toolchain
 *             tsc: tsconfig.json             #   its TypeScript, resident; the emit goes to dest
 *             # or: command: make js, output: /tmp/out (run per update; output's files go to dest)
 *           restart: SIGHUP                  # optional: sent to the container's main process after the copy
 *
 * Parsed from the positioned tree (normalize.ts calls parseDevSpec), so a mistake names its
 * file:line:col like every other Compose problem.
 */
import { constants } from 'node:os';
import path from 'node:path/posix';
import type { DevSpec, DevSync, SourcePos } from '../model/app.js';
import { describe, isPMap, isPScalar, isPSeq, type PMap, type PNode, type Problem } from '../compose/source.js';

const SIGNALS = new Set(Object.keys(constants.signals));

export function parseDevSpec(n: PNode | undefined, where: string, problems: Problem[]): DevSpec | undefined {
  if (!n) return undefined;
  const problem = (pos: SourcePos, message: string) => problems.push({ pos, message });
  const map = (x: PNode | undefined, at: string, keys: string[]): PMap | undefined => {
    if (!x) return undefined;
    if (!isPMap(x)) {
      problem(x.pos, `${at} must be a mapping, not ${describe(x)}`);
      return undefined;
    }
    for (const [k, e] of x.entries) if (!keys.includes(k) && !k.startsWith('x-')) problem(e.keyPos, `${at}: unknown key "${k}" (known: ${keys.join(', ')})`);
    return x;
  };
  const text = (x: PNode | undefined, at: string): string | undefined => {
    if (!x) return undefined;
    if (!isPScalar(x) || typeof x.value !== 'string' || x.value === '') {
      problem(x.pos, `${at} must be a non-empty string, not ${describe(x)}`);
      return undefined;
    }
    return x.value;
  };
  const dev = map(n, where, ['sync']);
  if (!dev) return undefined;
  const list = dev.entries.get('sync')?.value;
  const out: DevSpec = { sync: [], pos: n.pos };
  if (!list) return out;
  if (!isPSeq(list)) {
    problem(list.pos, `${where}.sync must be a list of {src, dest}, not ${describe(list)}`);
    return out;
  }
  list.items.forEach((item, i) => {
    const at = `${where}.sync[${i}]`;
    const rule = map(item, at, ['src', 'dest', 'compile', 'restart']);
    if (!rule) return;
    const v = (k: string) => rule.entries.get(k)?.value;
    const src = text(v('src'), `${at}.src`);
    const dest = text(v('dest'), `${at}.dest`);
    if (!v('src')) problem(rule.pos, `${at}.src is required (a path in the build context, e.g. html/)`);
    if (!v('dest')) problem(rule.pos, `${at}.dest is required (an absolute path in the container, e.g. /usr/share/nginx/html/)`);
    if (src !== undefined && (path.isAbsolute(src) || path.normalize(src).startsWith('..'))) {
      problem(v('src')!.pos, `${at}.src must be a path inside the build context, not "${src}"`);
    }
    if (dest !== undefined && !path.isAbsolute(dest)) problem(v('dest')!.pos, `${at}.dest must be an absolute path in the container, not "${dest}"`);
    let compile: DevSync['compile'];
    const c = map(v('compile'), `${at}.compile`, ['stage', 'tsc', 'command', 'output']);
    if (c) {
      const stage = text(c.entries.get('stage')?.value, `${at}.compile.stage`);
      if (!c.entries.get('stage')) problem(c.pos, `${at}.compile.stage is required`);
      if (c.entries.get('tsc')) {
        const tsc = text(c.entries.get('tsc')?.value, `${at}.compile.tsc`);
        for (const k of ['command', 'output']) if (c.entries.get(k)) problem(c.entries.get(k)!.keyPos, `${at}.compile: ${k} does not go with tsc (tsc is the resident TypeScript compiler; command and output run a command instead)`);
        if (tsc !== undefined && (path.isAbsolute(tsc) || path.normalize(tsc).startsWith('..'))) problem(c.entries.get('tsc')!.value.pos, `${at}.compile.tsc must be a tsconfig path inside the build context, not "${tsc}"`);
        if (stage && tsc) compile = { stage, tsc: path.normalize(tsc) };
      } else {
        const command = text(c.entries.get('command')?.value, `${at}.compile.command`);
        const output = text(c.entries.get('output')?.value, `${at}.compile.output`);
        for (const [k, val] of [['command', command], ['output', output]] as const) {
          if (!c.entries.get(k)) problem(c.pos, `${at}.compile.${k} is required (or tsc: tsconfig.json for the resident TypeScript compiler)`);
          else if (val === undefined) return;
        }
        if (output !== undefined && !path.isAbsolute(output)) problem(c.entries.get('output')!.value.pos, `${at}.compile.output must be an absolute path in the stage, not "${output}"`);
        if (stage && command && output) compile = { stage, command, output };
      }
    }
    let restart: NodeJS.Signals | undefined;
    const r = text(v('restart'), `${at}.restart`);
    if (r !== undefined) {
      const name = r.toUpperCase().startsWith('SIG') ? r.toUpperCase() : `SIG${r.toUpperCase()}`;
      if (!SIGNALS.has(name)) problem(v('restart')!.pos, `${at}.restart must be a signal name such as SIGHUP, not "${r}"`);
      else restart = name as NodeJS.Signals;
    }
    if (src === undefined || dest === undefined) return;
    const normal = path.normalize(src);
    out.sync.push({ src: normal === '.' || normal === './' ? '' : normal, dest, compile, restart, pos: rule.pos });
  });
  return out;
}

/** The rule a file (relative to the build context, posix separators) falls under, if any. */
export function ruleFor(spec: DevSpec | undefined, file: string): DevSync | undefined {
  return spec?.sync.find((r) => r.src === '' || file === r.src.replace(/\/$/, '') || file.startsWith(r.src.endsWith('/') ? r.src : `${r.src}/`));
}

/** Where a synced file lands in the container. */
export function destFor(rule: DevSync, file: string): string {
  const base = rule.src.replace(/\/$/, '');
  if (file === base) return rule.dest.endsWith('/') ? path.join(rule.dest, path.basename(file)) : rule.dest;
  return path.join(rule.dest, base ? file.slice(base.length + 1) : file);
}
