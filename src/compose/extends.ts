/**
 * `extends`: a service starts from another service (in this file or another one) and
 * overrides it, with Compose's merge rules: mappings merge key by key, `environment` and
 * `labels` merge by variable name, `ports`/`expose` add up, `volumes` merge by container
 * path, and `command`, `entrypoint` and healthcheck `test` replace.
 */
import path from 'node:path';
import { clone, describe, isPMap, isPScalar, isPSeq, type PEntry, type PMap, type PNode, type PScalar, type Problem } from './source.js';

export interface ExtendsContext {
  problems: Problem[];
  /** Loads (parse + interpolate) another Compose file; undefined when it could not be read (problems already recorded). */
  loadFile(absPath: string, from: PScalar): PMap | undefined;
  /** Directory of the file being resolved. */
  dir: string;
}

const KEY_VALUE = new Set(['environment', 'labels', 'annotations', 'extra_hosts', 'sysctls', 'args']);
const REPLACE = new Set(['command', 'entrypoint', 'test', 'image']);

/** Resolves every `extends` in place; returns the services whose extends could not be resolved. */
export function resolveExtends(services: PMap, ctx: ExtendsContext): Set<string> {
  const failed = new Set<string>();
  const cycles = new Set<string>();
  const resolved = new Map<PMap, PMap>();
  const fileServices = new Map<string, PMap | undefined>();
  const resolveIn = (file: string, dir: string, table: PMap, name: string, chain: string[]): PMap | undefined => {
    const entry = table.entries.get(name);
    if (!entry || !isPMap(entry.value)) return undefined;
    const svc = entry.value;
    const done = resolved.get(svc);
    if (done) return done;
    const ext = svc.entries.get('extends');
    if (!ext) {
      resolved.set(svc, svc);
      return svc;
    }
    const key = `${file}#${name}`;
    if (chain.includes(key)) {
      const members = [...chain.slice(chain.indexOf(key)), key].map((k) => k.split('#')[1]);
      const id = [...new Set(members)].sort().join(',');
      if (cycles.has(id)) return undefined;
      cycles.add(id);
      ctx.problems.push({ message: `services.${name}.extends: extends cycle ${members.join(' -> ')}`, pos: ext.keyPos });
      return undefined;
    }
    let baseName: string | undefined;
    let baseFile: PScalar | undefined;
    if (isPScalar(ext.value) && typeof ext.value.value === 'string') baseName = ext.value.value;
    else if (isPMap(ext.value)) {
      const s = ext.value.entries.get('service')?.value;
      if (s && isPScalar(s) && typeof s.value === 'string') baseName = s.value;
      const f = ext.value.entries.get('file')?.value;
      if (f && isPScalar(f) && typeof f.value === 'string') baseFile = f;
      for (const [k, e] of ext.value.entries) if (k !== 'service' && k !== 'file') ctx.problems.push({ message: `services.${name}.extends: unknown key "${k}"`, pos: e.keyPos });
    }
    if (!baseName) {
      ctx.problems.push({ message: `services.${name}.extends must name a service (extends: name, or extends: {service: name, file: path}), not ${describe(ext.value)}`, pos: ext.value.pos });
      return undefined;
    }
    let baseTable = table;
    let baseDir = dir;
    let baseKey = file;
    if (baseFile) {
      const abs = path.resolve(dir, baseFile.value as string);
      if (!fileServices.has(abs)) {
        const root = ctx.loadFile(abs, baseFile);
        const s = root?.entries.get('services')?.value;
        fileServices.set(abs, s && isPMap(s) ? s : undefined);
        if (root && !(s && isPMap(s))) ctx.problems.push({ message: `services.${name}.extends: ${baseFile.value} has no services`, pos: baseFile.pos });
      }
      const t = fileServices.get(abs);
      if (!t) return undefined;
      baseTable = t;
      baseDir = path.dirname(abs);
      baseKey = abs;
    }
    if (!baseTable.entries.has(baseName)) {
      ctx.problems.push({ message: `services.${name}.extends: unknown service "${baseName}"${baseFile ? ` in ${baseFile.value}` : ''}`, pos: ext.value.pos });
      return undefined;
    }
    const base = resolveIn(baseKey, baseDir, baseTable, baseName, [...chain, key]);
    if (!base) return undefined;
    const rebased = baseDir === ctx.dir ? clone(base) : rebase(clone(base) as PMap, baseDir, ctx.dir);
    const own: PMap = { ...svc, entries: new Map([...svc.entries].filter(([k]) => k !== 'extends')) };
    const merged = mergeNode(rebased, own, '') as PMap;
    resolved.set(svc, merged);
    return merged;
  };
  for (const [name, entry] of services.entries) {
    if (!isPMap(entry.value) || !entry.value.entries.has('extends')) continue;
    const merged = resolveIn('', ctx.dir, services, name, []);
    if (merged) services.entries.set(name, { keyPos: entry.keyPos, value: merged });
    else failed.add(name);
  }
  return failed;
}

function mergeNode(base: PNode, over: PNode, key: string): PNode {
  if (REPLACE.has(key)) return over;
  if (KEY_VALUE.has(key)) {
    const b = asKeyValueMap(base);
    const o = asKeyValueMap(over);
    if (b && o) return mergeMaps(b, o);
    return over;
  }
  if (isPMap(base) && isPMap(over)) return mergeMaps(base, over);
  if (isPSeq(base) && isPSeq(over)) {
    if (key === 'volumes') {
      const byTarget = new Map<string, PNode>();
      for (const item of [...base.items, ...over.items]) byTarget.set(mountTarget(item), item);
      return { ...over, items: [...byTarget.values()] };
    }
    if (['ports', 'expose', 'dns', 'dns_search', 'env_file', 'secrets', 'configs', 'cap_add', 'cap_drop', 'devices', 'depends_on', 'tmpfs', 'profiles', 'networks'].includes(key)) {
      const seen = new Set<string>();
      const items: PNode[] = [];
      for (const item of [...base.items, ...over.items]) {
        const k = fingerprint(item);
        if (!seen.has(k)) {
          seen.add(k);
          items.push(item);
        }
      }
      return { ...over, items };
    }
  }
  if (key === 'depends_on' || key === 'networks') {
    const b = asNameMap(base);
    const o = asNameMap(over);
    if (b && o) return mergeMaps(b, o);
  }
  return over;
}

function mergeMaps(base: PMap, over: PMap): PMap {
  const entries = new Map<string, PEntry>(base.entries);
  for (const [k, e] of over.entries) {
    const b = entries.get(k);
    entries.set(k, b ? { keyPos: e.keyPos, value: mergeNode(b.value, e.value, k) } : e);
  }
  return { kind: 'map', entries, pos: over.pos };
}

/** A list of scalars as a map (named by `entry`), so list and map forms merge by name; undefined when an item does not fit. */
function listAsMap(n: PNode, entry: (item: PScalar) => { name: string; value: string | null } | undefined): PMap | undefined {
  if (isPMap(n)) return n;
  if (!isPSeq(n)) return undefined;
  const entries = new Map<string, PEntry>();
  for (const item of n.items) {
    const e = isPScalar(item) ? entry(item) : undefined;
    if (!e) return undefined;
    entries.set(e.name, { keyPos: item.pos, value: { kind: 'scalar', value: e.value, raw: e.value ?? '', pos: item.pos } });
  }
  return { kind: 'map', entries, pos: n.pos };
}

/** `[A=1, B]` -> `{A: 1, B: null}`. */
function asKeyValueMap(n: PNode): PMap | undefined {
  return listAsMap(n, (item) => {
    if (typeof item.value !== 'string') return undefined;
    const text = item.template ?? item.value;
    const eq = text.indexOf('=');
    return eq < 0 ? { name: text, value: null } : { name: text.slice(0, eq), value: text.slice(eq + 1) };
  });
}

/** `[a, b]` -> `{a: null, b: null}`. */
function asNameMap(n: PNode): PMap | undefined {
  return listAsMap(n, (item) => ({ name: String(item.value), value: null }));
}

function mountTarget(n: PNode): string {
  if (isPMap(n)) {
    const t = n.entries.get('target')?.value;
    return t && isPScalar(t) ? String(t.value) : fingerprint(n);
  }
  if (isPScalar(n)) {
    const parts = String(n.value).split(':');
    return parts.length === 1 ? parts[0]! : parts[1]!;
  }
  return fingerprint(n);
}

function fingerprint(n: PNode): string {
  if (isPScalar(n)) return `s:${String(n.value)}`;
  if (isPSeq(n)) return `[${n.items.map(fingerprint).join(',')}]`;
  return `{${[...n.entries].map(([k, e]) => `${k}=${fingerprint(e.value)}`).join(',')}}`;
}

/** Paths in a service taken from another file are relative to that file's directory. */
function rebase(svc: PMap, fromDir: string, toDir: string): PMap {
  const fix = (text: string) => {
    if (path.isAbsolute(text)) return text;
    const rel = path.relative(toDir, path.resolve(fromDir, text)) || '.';
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const fixScalar = (n: PNode | undefined) => {
    if (n && isPScalar(n) && typeof n.value === 'string') {
      n.value = fix(n.value);
      n.raw = n.value;
    }
  };
  const build = svc.entries.get('build')?.value;
  if (build && isPScalar(build)) fixScalar(build);
  else if (build && isPMap(build)) fixScalar(build.entries.get('context')?.value);
  const envFile = svc.entries.get('env_file')?.value;
  if (envFile && isPSeq(envFile)) envFile.items.forEach((i) => (isPMap(i) ? fixScalar(i.entries.get('path')?.value) : fixScalar(i)));
  else fixScalar(envFile);
  const volumes = svc.entries.get('volumes')?.value;
  if (volumes && isPSeq(volumes)) {
    for (const v of volumes.items) {
      if (isPScalar(v) && typeof v.value === 'string' && /^\.{1,2}\//.test(v.value)) {
        const [src, ...rest] = v.value.split(':');
        v.value = [fix(src!), ...rest].join(':');
        v.raw = v.value;
      } else if (isPMap(v)) {
        const t = v.entries.get('type')?.value;
        if (t && isPScalar(t) && t.value === 'bind') fixScalar(v.entries.get('source')?.value);
      }
    }
  }
  return svc;
}
