/**
 * Merging Compose files the way Compose v2 does (compose-go `override.Merge` and
 * `EnforceUnicity`): `-f a.yaml -f b.yaml`, `compose.override.yaml` beside the default file,
 * and `include:`d resources. Mappings merge key by key and scalars are replaced; lists are
 * appended, then made unique by the key Compose uses for each (a port's
 * host:published:target/protocol, a mount's target, a secret's target, ...), the later
 * entry winning in the earlier one's place. `command`, `entrypoint` and healthcheck `test`
 * are replaced whole; `environment`, `labels` and friends merge by name whatever their form;
 * `depends_on` and `networks` lists become mappings first; a string `build` is its context.
 */
import { clone, isPMap, isPScalar, isPSeq, type PEntry, type PMap, type PNode, type PScalar, type PSeq } from './source.js';

/** Paths (with `*` for any key) whose value is replaced, not merged. */
const OVERRIDE = ['services.*.command', 'services.*.entrypoint', 'services.*.healthcheck.test'];
/** `KEY=value` lists or mappings, merged by key. */
const KEY_VALUE = [
  'services.*.environment',
  'services.*.labels',
  'services.*.annotations',
  'services.*.sysctls',
  'services.*.build.args',
  'services.*.build.labels',
  'services.*.build.additional_contexts',
  'services.*.deploy.labels',
  'services.*.volumes.*.volume.labels',
  'networks.*.labels',
  'volumes.*.labels',
];
/** A string or a list: appended. */
const TO_SEQUENCE = ['services.*.dns', 'services.*.dns_opt', 'services.*.dns_search', 'services.*.env_file', 'services.*.label_file', 'services.*.tmpfs'];
/** A list of names or a mapping by name: merged as mappings. */
const NAME_MAP = ['services.*.depends_on', 'services.*.networks'];

function matches(path: string[], pattern: string): boolean {
  const p = pattern.split('.');
  return p.length === path.length && p.every((seg, i) => seg === '*' || seg === path[i]);
}
const matchesAny = (path: string[], patterns: string[]) => patterns.some((p) => matches(path, p));

/** `over` merged onto `base` (neither is changed; the result shares no nodes with them). */
export function mergeFiles(base: PMap, over: PMap): PMap {
  const merged = mergeNode(clone(base), clone(over), []) as PMap;
  enforceUnicity(merged);
  return merged;
}

function mergeNode(base: PNode, over: PNode, path: string[]): PNode {
  if (isPScalar(over) && over.value === null && over.tag !== 'reset') return base;
  if (over.tag === 'reset' || over.tag === 'override') return over;
  if (matchesAny(path, OVERRIDE)) return commandShaped(base) ? over : base;
  if (matchesAny(path, KEY_VALUE)) {
    const b = keyValueMap(base);
    const o = keyValueMap(over);
    // A value of the wrong shape stays, so that normalize reports it (Compose validates each file before merging).
    return b && o ? mergeMaps(b, o, path) : b ? over : base;
  }
  if (matchesAny(path, TO_SEQUENCE)) {
    const b = asSeq(base);
    const o = asSeq(over);
    return b && o ? { ...o, items: [...b.items, ...o.items] } : b ? over : base;
  }
  if (matchesAny(path, NAME_MAP)) {
    const b = nameMap(base, path[2] === 'depends_on');
    const o = nameMap(over, path[2] === 'depends_on');
    if (b && o) return mergeMaps(b, o, path);
    return b ? over : base;
  }
  if (matches(path, 'services.*.build')) {
    const b = buildMap(base);
    const o = buildMap(over);
    return b && o ? mergeMaps(b, o, path) : b ? over : base;
  }
  if (matches(path, 'services.*.logging') && isPMap(base) && isPMap(over)) {
    const bd = base.entries.get('driver')?.value;
    const od = over.entries.get('driver')?.value;
    if (bd && od && isPScalar(bd) && isPScalar(od) && bd.value !== od.value) return over;
  }
  if (isPMap(base) && isPMap(over)) return mergeMaps(base, over, path);
  if (isPSeq(base) && isPSeq(over)) return { ...over, items: [...base.items, ...over.items] };
  return over;
}

/** A string or a list of scalars: a value `command`, `entrypoint` and `test` may have (Compose checks each file before merging). */
function commandShaped(n: PNode): boolean {
  return (isPScalar(n) && (typeof n.value === 'string' || n.value === null)) || (isPSeq(n) && n.items.every(isPScalar));
}

function mergeMaps(base: PMap, over: PMap, path: string[]): PMap {
  const entries = new Map<string, PEntry>(base.entries);
  for (const [k, e] of over.entries) {
    const b = entries.get(k);
    if (e.value.tag === 'reset') {
      entries.delete(k);
      continue;
    }
    entries.set(k, b ? { keyPos: e.keyPos, value: mergeNode(b.value, e.value, [...path, k]) } : e);
  }
  return { kind: 'map', entries, pos: over.pos };
}

function asSeq(n: PNode): PSeq | undefined {
  if (isPSeq(n)) return n;
  if (isPScalar(n) && n.value !== null) return { kind: 'seq', items: [n], pos: n.pos };
  return undefined;
}

function scalar(value: string | null, like: PNode): PScalar {
  return { kind: 'scalar', value, raw: value ?? '', pos: like.pos };
}

/** `[A=1, B]` -> `{A: "1", B: null}`; mappings as they are. */
export function keyValueMap(n: PNode): PMap | undefined {
  if (isPMap(n)) return n;
  if (!isPSeq(n)) return undefined;
  const entries = new Map<string, PEntry>();
  for (const item of n.items) {
    if (!isPScalar(item) || typeof item.value !== 'string') return undefined;
    const text = item.template ?? item.value;
    const eq = text.indexOf('=');
    const value: PScalar =
      eq < 0 ? scalar(null, item) : { ...item, value: item.value.slice(item.value.indexOf('=') + 1), raw: text.slice(eq + 1), template: item.template === undefined ? undefined : text.slice(eq + 1) };
    entries.set(eq < 0 ? text : text.slice(0, eq), { keyPos: item.pos, value });
  }
  return { kind: 'map', entries, pos: n.pos };
}

/** `[a, b]` -> `{a: {condition: service_started}, b: ...}` for depends_on, `{a: null}` for networks. */
function nameMap(n: PNode, dependsOn: boolean): PMap | undefined {
  if (isPMap(n)) return n;
  if (!isPSeq(n)) return undefined;
  const entries = new Map<string, PEntry>();
  for (const item of n.items) {
    if (!isPScalar(item) || item.value === null) return undefined;
    const value: PNode = dependsOn
      ? { kind: 'map', entries: new Map([['condition', { keyPos: item.pos, value: scalar('service_started', item) }]]), pos: item.pos }
      : scalar(null, item);
    entries.set(String(item.value), { keyPos: item.pos, value });
  }
  return { kind: 'map', entries, pos: n.pos };
}

function buildMap(n: PNode): PMap | undefined {
  if (isPMap(n)) return n;
  if (isPScalar(n) && typeof n.value === 'string') return { kind: 'map', entries: new Map([['context', { keyPos: n.pos, value: n }]]), pos: n.pos };
  return undefined;
}

// ---------- unicity ----------

type Indexer = (item: PNode) => string;

const text = (n: PNode | undefined): string => (n && isPScalar(n) ? (n.value === null ? '' : String(n.value)) : '');

const byValue: Indexer = (n) => (isPScalar(n) ? text(n) : JSON.stringify(fingerprint(n)));

/**
 * Compose's port key, taken after its canonical (long) form: host_ip:published:target/protocol.
 * A short entry's published port is a string there, a long entry's stays as written, so
 * `8080:80` and `{target: 80, published: 8080}` are two entries while `80` and `{target: 80}` are one.
 */
const portKey: Indexer = (n) => {
  if (isPMap(n)) {
    const g = (k: string) => text(n.entries.get(k)?.value);
    const pub = n.entries.get('published')?.value;
    const published = pub && isPScalar(pub) && typeof pub.value === 'number' ? `#${pub.value}` : g('published');
    return `${g('host_ip') || '0.0.0.0'}:${published}:${g('target')}/${g('protocol') || 'tcp'}`;
  }
  if (isPScalar(n) && typeof n.value === 'number') return `0.0.0.0::${n.value}/tcp`;
  let s = text(n);
  let protocol = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = s.slice(slash + 1);
    s = s.slice(0, slash);
  }
  let host = '0.0.0.0';
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
  if (v6) {
    host = v6[1]!;
    s = v6[2]!;
  }
  const parts = s.split(':');
  if (parts.length === 3) host = parts.shift() || '0.0.0.0';
  return parts.length === 1 ? `${host}::${parts[0]}/${protocol}` : `${host}:${parts[0]}:${parts[1]}/${protocol}`;
};

const mountTarget: Indexer = (n) => {
  if (isPMap(n)) return text(n.entries.get('target')?.value);
  const parts = text(n).split(':');
  return parts.length === 1 ? parts[0]! : parts[1]!;
};

const fileMount =
  (dir: string): Indexer =>
  (n) => {
    if (isPMap(n)) {
      const target = text(n.entries.get('target')?.value);
      if (target) return target.startsWith('/') ? target : `${dir}/${target}`;
      return `${dir}/${text(n.entries.get('source')?.value)}`;
    }
    return `${dir}/${text(n)}`;
  };

const envFileKey: Indexer = (n) => (isPMap(n) ? text(n.entries.get('path')?.value) : text(n));

const UNIQUE: Record<string, Indexer> = {
  ports: portKey,
  volumes: mountTarget,
  secrets: fileMount('/run/secrets'),
  configs: fileMount(''),
  env_file: envFileKey,
  expose: byValue,
  cap_add: byValue,
  cap_drop: byValue,
  dns: byValue,
  dns_opt: byValue,
  dns_search: byValue,
  links: byValue,
  profiles: byValue,
  tmpfs: byValue,
  extra_hosts: byValue,
  devices: byValue,
};

/** Makes the lists of every service unique, in place (the later of two equal entries takes the earlier one's place). */
export function enforceUnicity(root: PMap): void {
  const services = root.entries.get('services')?.value;
  if (!services || !isPMap(services)) return;
  for (const e of services.entries.values()) {
    if (!isPMap(e.value)) continue;
    for (const [key, indexer] of Object.entries(UNIQUE)) {
      const entry = e.value.entries.get(key);
      if (!entry || !isPSeq(entry.value)) continue;
      const at = new Map<string, number>();
      const items: PNode[] = [];
      for (const item of entry.value.items) {
        const k = indexer(item);
        const i = at.get(k);
        if (i === undefined) {
          at.set(k, items.length);
          items.push(item);
        } else items[i] = item;
      }
      entry.value = { ...entry.value, items };
    }
  }
}

function fingerprint(n: PNode): unknown {
  if (isPScalar(n)) return n.value;
  if (isPSeq(n)) return n.items.map(fingerprint);
  return Object.fromEntries([...n.entries].map(([k, e]) => [k, fingerprint(e.value)]));
}
