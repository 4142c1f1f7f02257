/**
 * The normalize context and the readers every concern shares: scalars, lists, key/value
 * lists or mappings, durations, with a problem (file:line:col) for each value of the wrong shape.
 */
import type { Env } from './interpolate.js';
import type { SourcePos, Warning } from '../model/app.js';
import { describe, isPMap, isPScalar, isPSeq, type PMap, type PNode, type Problem, type PScalar } from './source.js';
import { parseDuration, splitCommand } from './units.js';

/** What normalize may ask of the host, answered by the loader (normalize itself reads no file). */
export interface HostFiles {
  exists(abs: string): boolean;
  kind(abs: string): 'file' | 'directory' | 'missing' | 'other';
  /** A file's text; undefined when it is not a readable file. */
  read(abs: string): string | undefined;
  /** How a path is shown in messages. */
  display(abs: string): string;
}

export interface NormalizeContext {
  files: HostFiles;
  /** Required variables (`${X:?}`) inside `environment` values are checked when the values are resolved at apply time, not now. */
  deferRequired?: boolean;
  /** Directory relative paths in the Compose file are resolved against. */
  dir: string;
  /** How file paths are shown in messages (relative to this directory). */
  displayBase: string;
  env: Env;
  projectName: string;
  problems: Problem[];
  warnings: Warning[];
  /** Services whose `extends` failed (already reported): no follow-up problems for them. */
  unresolved?: Set<string>;
}

export function problem(ctx: NormalizeContext, pos: SourcePos, message: string): void {
  ctx.problems.push({ message, pos });
}

export function warn(ctx: NormalizeContext, pos: SourcePos, message: string): void {
  ctx.warnings.push({ message, pos });
}

// ---------- scalar readers ----------

export function scalarString(n: PNode | undefined, where: string, ctx: NormalizeContext): string | undefined {
  if (!n) return undefined;
  if (!isPScalar(n) || n.value === null) {
    problem(ctx, n.pos, `${where} must be a string, not ${describe(n)}`);
    return undefined;
  }
  return typeof n.value === 'string' ? n.value : n.raw || String(n.value);
}

export function scalarInt(n: PNode | undefined, where: string, ctx: NormalizeContext, min = 0): number | undefined {
  if (!n) return undefined;
  const v = isPScalar(n) ? (typeof n.value === 'number' ? n.value : typeof n.value === 'string' && /^-?\d+$/.test(n.value.trim()) ? Number(n.value) : NaN) : NaN;
  if (!Number.isInteger(v)) {
    problem(ctx, n.pos, `${where} must be an integer, not ${describe(n)}`);
    return undefined;
  }
  if (v < min) {
    problem(ctx, n.pos, `${where} must be at least ${min}, not ${v}`);
    return undefined;
  }
  return v;
}

export function scalarBool(n: PNode | undefined, where: string, ctx: NormalizeContext): boolean | undefined {
  if (!n) return undefined;
  if (isPScalar(n)) {
    if (typeof n.value === 'boolean') return n.value;
    if (typeof n.value === 'string' && /^(true|false)$/i.test(n.value)) return n.value.toLowerCase() === 'true';
  }
  problem(ctx, n.pos, `${where} must be true or false, not ${describe(n)}`);
  return undefined;
}

export function duration(n: PNode | undefined, where: string, ctx: NormalizeContext): number | undefined {
  if (!n) return undefined;
  const raw = isPScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') ? n.value : undefined;
  const s = raw === undefined ? undefined : parseDuration(raw);
  if (s === undefined) {
    problem(ctx, n.pos, `${where} must be a duration like 30s or 1m30s, not ${describe(n)}`);
    return undefined;
  }
  return s;
}

/** The items of a list-valued key: none when the key is absent, a problem (and none) when it is not a list. */
export function listItems(n: PNode | undefined, where: string, ctx: NormalizeContext): PNode[] {
  if (!n) return [];
  if (!isPSeq(n)) {
    problem(ctx, n.pos, `${where} must be a list, not ${describe(n)}`);
    return [];
  }
  return n.items;
}

export function stringList(n: PNode | undefined, where: string, ctx: NormalizeContext): string[] {
  if (!n) return [];
  if (isPScalar(n) && typeof n.value === 'string') return [n.value];
  if (!isPSeq(n)) {
    problem(ctx, n.pos, `${where} must be a list of strings, not ${describe(n)}`);
    return [];
  }
  return n.items.map((i, k) => scalarString(i, `${where}[${k}]`, ctx)).filter((s): s is string => s !== undefined);
}

/** A string (split like a shell would) or a list of strings. */
export function commandList(n: PNode | undefined, where: string, ctx: NormalizeContext): string[] | undefined {
  if (!n) return undefined;
  if (isPScalar(n) && n.value === null) return undefined;
  if (isPScalar(n) && typeof n.value === 'string') {
    const text = scalarString(n, where, ctx);
    if (text === undefined) return undefined;
    const words = splitCommand(text);
    if (!words) problem(ctx, n.pos, `${where} has an unterminated quote`);
    return words;
  }
  if (isPSeq(n)) return n.items.map((i, k) => scalarString(i, `${where}[${k}]`, ctx) ?? '');
  problem(ctx, n.pos, `${where} must be a string or a list of strings, not ${describe(n)}`);
  return undefined;
}

/** `KEY=value` lists or mappings, with values as strings (`yes`, `1.0` stay as written). */
export function keyValues(n: PNode | undefined, where: string, ctx: NormalizeContext): { name: string; value: PScalar | undefined; pos: SourcePos }[] {
  if (!n) return [];
  const out: { name: string; value: PScalar | undefined; pos: SourcePos }[] = [];
  if (isPMap(n)) {
    for (const [name, e] of n.entries) {
      if (!isPScalar(e.value)) {
        problem(ctx, e.value.pos, `${where}.${name} must be a string, number or boolean, not ${describe(e.value)}`);
        continue;
      }
      out.push({ name, value: e.value.value === null ? undefined : e.value, pos: e.keyPos });
    }
    return out;
  }
  if (isPSeq(n)) {
    n.items.forEach((i, k) => {
      if (!isPScalar(i) || typeof i.value !== 'string') {
        problem(ctx, i.pos, `${where}[${k}] must be a "KEY=value" string, not ${describe(i)}`);
        return;
      }
      const text = i.template ?? i.value;
      const eq = text.indexOf('=');
      if (eq < 0) out.push({ name: text, value: undefined, pos: i.pos });
      else out.push({ name: text.slice(0, eq), value: { ...i, value: text.slice(eq + 1), raw: text.slice(eq + 1), template: i.template === undefined ? undefined : text.slice(eq + 1) }, pos: i.pos });
    });
    return out;
  }
  problem(ctx, n.pos, `${where} must be a mapping or a list of "KEY=value" strings, not ${describe(n)}`);
  return [];
}

export function stringMap(n: PNode | undefined, where: string, ctx: NormalizeContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of keyValues(n, where, ctx)) out[kv.name] = kv.value ? scalarText(kv.value) : '';
  return out;
}

/** The string Compose would use for a scalar: `true` -> "true", `1.0` -> "1.0", interpolated strings as interpolated. */
export function scalarText(s: PScalar): string {
  if (typeof s.value === 'string') return s.value;
  if (s.value === null) return '';
  return s.raw || String(s.value);
}

export function mapOf(n: PNode | undefined, where: string, ctx: NormalizeContext): PMap | undefined {
  if (!n) return undefined;
  if (isPMap(n)) return n;
  if (isPScalar(n) && n.value === null) return undefined;
  problem(ctx, n.pos, `${where} must be a mapping, not ${describe(n)}`);
  return undefined;
}

export function checkKeys(m: PMap, where: string, known: string[], ctx: NormalizeContext): void {
  for (const [k, e] of m.entries) {
    if (!known.includes(k) && !k.startsWith('x-')) problem(ctx, e.keyPos, `${where}: unknown key "${k}"`);
  }
}
