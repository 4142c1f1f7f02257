/**
 * The fast path of source.ts: the same positioned tree for the YAML that Compose files are made
 * of (block and flow mappings and sequences, plain and quoted scalars, comments), read with
 * js-yaml (about 5x less CPU than the `yaml` Document API on a cold process, which is what a
 * command is). Scalars are read as text (js-yaml's failsafe schema) and typed with the `yaml`
 * package's own core-schema tags, so values are the same; positions are the node's first
 * character, as `yaml` gives them. Anything else (anchors, aliases, tags, block scalars,
 * explicit keys, several documents, any error) answers undefined and source.ts parses the file
 * with `yaml`, which also words every error message. tests/unit/compose-fast-source.test.ts
 * compares both paths, positions included, on every fixture and corpus file.
 */
import jsyaml from 'js-yaml';
import { Schema, type ScalarTag } from 'yaml';
import type { SourcePos } from '../model/app.js';
import type { PEntry, PNode, Scalar } from './source.js';

interface Frame {
  open: number;
  children: Frame[];
  kind: string | null;
  result: unknown;
  end: number;
}

class Unsupported extends Error {}

/** yaml's core schema: the tags that type a plain scalar, in the order yaml tries them. */
const CORE_TAGS = (new Schema({}).tags as ScalarTag[]).filter((t) => t.test && !t.collection && t.default !== 'key');

function plainValue(text: string): Scalar {
  for (const t of CORE_TAGS) {
    if (t.test!.test(text)) {
      let v = t.resolve(text, () => {
        throw new Unsupported();
      }, {} as never) as unknown;
      // floats come back as a Scalar node (it keeps the digits written); the value is what counts
      if (v !== null && typeof v === 'object' && 'value' in v) v = (v as { value: unknown }).value;
      if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
      throw new Unsupported();
    }
  }
  return text;
}

// characters js-yaml handles that the fast path leaves to `yaml`: tabs, directives and documents markers are checked per text
const UNSUPPORTED_TEXT = /\t|^(?:%|---|\.\.\.)|\r/m;

/** The positioned tree, or undefined when the text needs the `yaml` package. */
export function fastParse(text: string, at: (offset: number) => SourcePos): PNode | undefined {
  if (UNSUPPORTED_TEXT.test(text)) return undefined;
  const stack: Frame[] = [{ open: 0, children: [], kind: null, result: null, end: 0 }];
  try {
    jsyaml.load(text, {
      schema: jsyaml.FAILSAFE_SCHEMA,
      json: false,
      listener(event, st) {
        const state = st as unknown as { position: number; anchor: string | null; tag: string | null; kind: string | null; result: unknown };
        if (event === 'open') {
          stack.push({ open: state.position, children: [], kind: null, result: null, end: 0 });
          return;
        }
        const f = stack.pop()!;
        if (state.anchor !== null || (state.tag !== null && state.tag !== '?')) throw new Unsupported();
        f.kind = state.kind;
        f.result = state.result;
        f.end = state.position;
        stack[stack.length - 1]!.children.push(f);
      },
    });
  } catch {
    return undefined;
  }
  const top = stack[0]!.children;
  if (stack.length !== 1 || top.length !== 1) return undefined;
  try {
    return build(text, top[0]!, at);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** The first character of a node's content: past spaces, line breaks and comments. */
function contentStart(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a) i++;
    else if (c === 0x23 /* # */ && (i === 0 || text.charCodeAt(i - 1) === 0x20 || text.charCodeAt(i - 1) === 0x0a)) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a) i++;
    } else return i;
  }
}

function build(text: string, f: Frame, at: (offset: number) => SourcePos): PNode {
  // a node in block context is composed twice by js-yaml (first as a possible key, then kept): the inner frame is the node
  while (f.children.length === 1 && f.children[0]!.kind === f.kind && f.children[0]!.result === f.result) f = f.children[0]!;
  const start = contentStart(text, f.open);
  const pos = at(start);
  const c = text[start];
  if (f.kind === 'mapping') {
    const kids = f.children.length % 2 === 1 && isEmpty(f.children[f.children.length - 1]!) ? f.children.slice(0, -1) : f.children;
    if (kids.length % 2 === 1) throw new Unsupported();
    const entries = new Map<string, PEntry>();
    for (let i = 0; i < kids.length; i += 2) {
      const k = kids[i]!;
      const key = build(text, k, at);
      if (key.kind !== 'scalar' || key.value === null || typeof key.value === 'object') throw new Unsupported();
      const name = String(key.value);
      if (entries.has(name)) throw new Unsupported();
      if (name === '<<' && text[contentStart(text, k.open)] !== '"' && text[contentStart(text, k.open)] !== "'") throw new Unsupported();
      const v = kids[i + 1]!;
      // an empty value sits after the `:` and the spaces that follow it, as in yaml
      const value: PNode = isEmpty(v) ? { kind: 'scalar', value: null, raw: '', pos: at(pastSpaces(text, v.open)) } : build(text, v, at);
      entries.set(name, { keyPos: key.pos, value });
    }
    if (entries.size !== Object.keys(f.result as object).length) throw new Unsupported();
    return { kind: 'map', entries, pos };
  }
  if (f.kind === 'sequence') {
    const items = (f.result as unknown[]) ?? [];
    const kids = f.children.length === items.length + 1 && isEmpty(f.children[f.children.length - 1]!) ? f.children.slice(0, -1) : f.children;
    if (kids.length !== items.length) throw new Unsupported();
    return { kind: 'seq', items: kids.map((k) => (isEmpty(k) ? { kind: 'scalar', value: null, raw: '', pos: at(contentStart(text, k.open)) } : build(text, k, at))), pos };
  }
  if (f.kind === 'scalar' && typeof f.result === 'string') {
    if (c === '|' || c === '>') throw new Unsupported();
    if (c === '"' || c === "'") return { kind: 'scalar', value: f.result, raw: f.result, pos };
    return { kind: 'scalar', value: plainValue(f.result), raw: f.result, pos };
  }
  throw new Unsupported();
}

function pastSpaces(text: string, from: number): number {
  let i = from;
  while (text.charCodeAt(i) === 0x20) i++;
  return i;
}

function isEmpty(f: Frame): boolean {
  return f.kind === null && f.result === null && f.children.length === 0;
}
