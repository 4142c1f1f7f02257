/**
 * YAML -> positioned tree. The `yaml` Document API gives every node its line and column;
 * this turns a document into plain nodes that keep them, with aliases and merge keys
 * (`<<`) resolved, so every later stage can name file:line:col for what it complains about.
 */
import { readFileSync, statSync } from 'node:fs';
import { Alias, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { SourcePos } from '../model/app.js';
import { fastParse } from './fast-source.js';

export type Scalar = string | number | boolean | null;

/** Compose's YAML tags: `!reset` drops what earlier files set, `!override` replaces it whole. */
export type MergeTag = 'reset' | 'override';

export interface PScalar {
  kind: 'scalar';
  tag?: MergeTag;
  value: Scalar;
  /** The text as written (`1.0`, `yes`), for values that Compose treats as strings. */
  raw: string;
  /** Set when `value` came from interpolating `${VAR}`: the text before interpolation. */
  template?: string;
  /** Variables the template referenced. */
  vars?: string[];
  pos: SourcePos;
}

export interface PEntry {
  keyPos: SourcePos;
  value: PNode;
}

export interface PMap {
  kind: 'map';
  tag?: MergeTag;
  entries: Map<string, PEntry>;
  pos: SourcePos;
}

export interface PSeq {
  kind: 'seq';
  tag?: MergeTag;
  items: PNode[];
  pos: SourcePos;
}

export type PNode = PScalar | PMap | PSeq;

export interface Problem {
  message: string;
  pos: SourcePos;
}

export interface ParseLimits {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** yaml's maxAliasCount: refuses documents whose aliases expand without bound. */
  maxAliasCount: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 16 * 1024 * 1024, maxAliasCount: 10_000 };

export interface ParsedFile {
  root?: PNode;
  problems: Problem[];
}

/** Reads and parses one YAML file; all problems come back together, nothing throws for bad input. */
export function parseFile(file: string, display: string, limits: ParseLimits = DEFAULT_LIMITS): ParsedFile {
  const at = (line: number, col: number): SourcePos => ({ file: display, line, col });
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { problems: [{ message: 'file not found', pos: at(1, 1) }] };
  }
  if (size > limits.maxBytes) {
    return {
      problems: [{ message: `file is ${formatBytes(size)}, larger than the ${formatBytes(limits.maxBytes)} limit for a Compose file`, pos: at(1, 1) }],
    };
  }
  return parseText(readFileSync(file, 'utf8'), display, limits);
}

/** `fast: false` always parses with the `yaml` package (the tests compare both paths). */
export function parseText(text: string, display: string, limits: ParseLimits = DEFAULT_LIMITS, fast = true): ParsedFile {
  const at = (line: number, col: number): SourcePos => ({ file: display, line, col });
  if (Buffer.byteLength(text) > limits.maxBytes) {
    return { problems: [{ message: `file is larger than the ${formatBytes(limits.maxBytes)} limit for a Compose file`, pos: at(1, 1) }] };
  }
  // Most Compose files take the fast path (fast-source.ts); the rest, and every error, the `yaml` package.
  const quick = fast ? fastParse(text, offsetToPos(text, display)) : undefined;
  if (quick && !(quick.kind === 'scalar' && (quick.value === null || quick.value === ''))) return { root: quick, problems: [] };
  const lc = new LineCounter();
  // Duplicate keys are found while converting (yaml's own check is quadratic in the size of a mapping).
  const doc = parseDocument(text, { lineCounter: lc, merge: true, prettyErrors: false, uniqueKeys: false, strict: true });
  const posOf = (offset: number | undefined): SourcePos => {
    const p = lc.linePos(offset ?? 0);
    return at(p.line, p.col);
  };
  const problems: Problem[] = [];
  for (const e of doc.errors) problems.push({ message: yamlMessage(e.message), pos: posOf(e.pos[0]) });
  if (problems.length) return { problems };
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    return { problems: [{ message: 'empty file: a Compose file needs a `services` mapping', pos: at(1, 1) }] };
  }
  // The guard against alias bombs: yaml counts alias expansions and throws past the limit.
  if (hasAliases(doc)) {
    try {
      doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (e) {
      const alias = firstAlias(doc);
      const msg = e instanceof Error ? e.message : String(e);
      const why = /alias count/i.test(msg)
        ? `YAML aliases expand past the limit of ${limits.maxAliasCount} (a possible "billion laughs" alias bomb); refusing to expand them`
        : `YAML alias: ${yamlMessage(msg)}`;
      return { problems: [{ message: why, pos: posOf(alias?.range?.[0]) }] };
    }
  }
  const root = convert(doc, doc.contents as YamlNode, posOf, problems, new Set());
  return { root, problems };
}

/** Offset -> 1-based line and column, as yaml's LineCounter gives them. */
function offsetToPos(text: string, file: string): (offset: number) => SourcePos {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, col: offset - starts[lo]! + 1 };
  };
}

function convert(doc: Document, node: YamlNode, posOf: (o: number | undefined) => SourcePos, problems: Problem[], seen: Set<YamlNode>): PNode {
  const n = convertNode(doc, node, posOf, problems, seen);
  const tag = (node as { tag?: string }).tag;
  if (tag === '!reset' || tag === '!override') n.tag = tag === '!reset' ? 'reset' : 'override';
  return n;
}

function convertNode(doc: Document, node: YamlNode, posOf: (o: number | undefined) => SourcePos, problems: Problem[], seen: Set<YamlNode>): PNode {
  const pos = posOf(node.range?.[0]);
  if (isAlias(node)) {
    const target = (node as Alias).resolve(doc) as YamlNode | undefined;
    if (!target) return { kind: 'scalar', value: null, raw: '', pos };
    if (seen.has(target)) {
      problems.push({ message: `YAML alias *${(node as Alias).source} refers to itself`, pos });
      return { kind: 'scalar', value: null, raw: '', pos };
    }
    seen.add(target);
    const value = convert(doc, target, posOf, problems, seen);
    seen.delete(target);
    return value;
  }
  if (isMap(node)) {
    const entries = new Map<string, PEntry>();
    const merged: PMap[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const keyPos = posOf(keyNode?.range?.[0] ?? node.range?.[0]);
      if (isScalar(keyNode) && keyNode.source === '<<' && keyNode.type === 'PLAIN') {
        const v = pair.value as YamlNode | null;
        const sources = v && isSeq(v) ? (v.items as YamlNode[]) : v ? [v] : [];
        for (const s of sources) {
          const m = convert(doc, s, posOf, problems, seen);
          if (m.kind === 'map') merged.push(m);
          else problems.push({ message: 'merge key `<<` needs a mapping or a list of mappings', pos: m.pos });
        }
        continue;
      }
      const key = isScalar(keyNode) ? (typeof keyNode.value === 'symbol' ? String(keyNode.source) : String(keyNode.value)) : keyNode ? String(keyNode) : '';
      if (entries.has(key)) {
        problems.push({ message: 'YAML: Map keys must be unique', pos: keyPos });
        continue;
      }
      const value: PNode = pair.value ? convert(doc, pair.value as YamlNode, posOf, problems, seen) : { kind: 'scalar', value: null, raw: '', pos: keyPos };
      entries.set(key, { keyPos, value });
    }
    // Explicit keys win over merged ones; among merged maps the first one listed wins.
    for (const m of merged) for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
    return { kind: 'map', entries, pos };
  }
  if (isSeq(node)) {
    return { kind: 'seq', items: (node.items as YamlNode[]).map((i) => convert(doc, i, posOf, problems, seen)), pos };
  }
  if (isScalar(node)) {
    const v = node.value;
    const value: Scalar = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
    const raw = typeof node.source === 'string' ? node.source : value === null ? '' : String(value);
    return { kind: 'scalar', value, raw, pos };
  }
  return { kind: 'scalar', value: null, raw: '', pos };
}

function hasAliases(doc: Document): boolean {
  return firstAlias(doc) !== undefined;
}

function firstAlias(doc: Document): Alias | undefined {
  let found: Alias | undefined;
  const walk = (n: unknown): void => {
    if (found || !n) return;
    if (isAlias(n)) found = n;
    else if (isMap(n) || isSeq(n)) for (const i of n.items) walk(i);
    else if (isPair(n)) {
      walk(n.key);
      walk(n.value);
    }
  };
  walk(doc.contents);
  return found;
}

function yamlMessage(message: string): string {
  // yaml's messages end with " at line X, column Y" plus a code excerpt; our prefix already says where.
  return `YAML: ${message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} bytes`;
}

/** Small helpers for reading positioned nodes. */
export const isPMap = (n: PNode | undefined): n is PMap => n?.kind === 'map';
export const isPSeq = (n: PNode | undefined): n is PSeq => n?.kind === 'seq';
export const isPScalar = (n: PNode | undefined): n is PScalar => n?.kind === 'scalar';

export function describe(n: PNode): string {
  if (n.kind === 'map') return 'a mapping';
  if (n.kind === 'seq') return 'a list';
  if (n.value === null) return 'null';
  if (typeof n.value === 'string') return `"${n.raw || n.value}"`;
  return `${typeof n.value} ${n.raw || String(n.value)}`;
}

/** A deep copy, so merging `extends` never changes a node another service shares through an alias. */
export function clone(n: PNode): PNode {
  if (n.kind === 'scalar') return { ...n, vars: n.vars ? [...n.vars] : undefined };
  if (n.kind === 'seq') return { ...n, items: n.items.map(clone) };
  const entries = new Map<string, PEntry>();
  for (const [k, e] of n.entries) entries.set(k, { keyPos: e.keyPos, value: clone(e.value) });
  return { ...n, entries };
}
