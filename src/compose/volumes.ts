/**
 * Top-level named volumes and a service's `volumes` (short `source:target[:mode]` and long syntax).
 */
import path from 'node:path';
import type { Mount, NamedVolume } from '../model/app.js';
import { describe, isPMap, isPScalar, type PNode } from './source.js';
import { parseBytes } from './units.js';
import { checkKeys, listItems, mapOf, type NormalizeContext, problem, scalarBool, scalarString, warn } from './readers.js';

export function namedVolumes(n: PNode | undefined, ctx: NormalizeContext): NamedVolume[] {
  const m = mapOf(n, 'volumes', ctx);
  if (!m) return [];
  const out: NamedVolume[] = [];
  for (const [name, e] of m.entries) {
    const spec = mapOf(e.value, `volumes.${name}`, ctx);
    const v: NamedVolume = { name, external: false, pos: e.keyPos };
    if (spec) {
      checkKeys(spec, `volumes.${name}`, ['driver', 'driver_opts', 'external', 'labels', 'name'], ctx);
      const ext = spec.entries.get('external')?.value;
      v.external = isPMap(ext) ? true : (scalarBool(ext, `volumes.${name}.external`, ctx) ?? false);
      const size = spec.entries.get('x-stackport-size')?.value ?? mapOf(spec.entries.get('driver_opts')?.value, `volumes.${name}.driver_opts`, ctx)?.entries.get('size')?.value;
      if (size) v.size = scalarString(size, `volumes.${name} size`, ctx);
      const driver = spec.entries.get('driver');
      if (driver && scalarString(driver.value, `volumes.${name}.driver`, ctx) !== 'local') {
        warn(ctx, driver.keyPos, `volumes.${name}.driver: volume drivers do not exist in Kubernetes; the claim uses the default StorageClass`);
      }
    }
    out.push(v);
  }
  return out;
}

export function mountSource(ctx: NormalizeContext, source: string): { type: 'bind' | 'volume'; abs?: string } {
  if (/^(\.|\/|~)/.test(source) || source.includes('/')) {
    const expanded = source.startsWith('~') ? path.join(process.env.HOME ?? '/root', source.slice(1)) : source;
    return { type: 'bind', abs: path.resolve(ctx.dir, expanded) };
  }
  return { type: 'volume' };
}

export function inside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function mounts(n: PNode | undefined, where: string, ctx: NormalizeContext, volumes: NamedVolume[]): Mount[] {
  const out: Mount[] = [];
  const declared = new Set(volumes.map((v) => v.name));
  listItems(n, where, ctx).forEach((item, k) => {
    const w = `${where}[${k}]`;
    let m: Mount | undefined;
    if (isPMap(item)) {
      checkKeys(item, w, ['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency', 'image'], ctx);
      const type = scalarString(item.entries.get('type')?.value, `${w}.type`, ctx);
      const target = scalarString(item.entries.get('target')?.value, `${w}.target`, ctx);
      const source = scalarString(item.entries.get('source')?.value, `${w}.source`, ctx);
      if (!target) {
        problem(ctx, item.pos, `${w}: target is required`);
        return;
      }
      if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
        if (type === 'npipe' || type === 'image' || type === 'cluster') warn(ctx, item.pos, `${w}: ${type} mounts are not supported; skipped`);
        else problem(ctx, item.pos, `${w}.type must be volume, bind or tmpfs, not ${type === undefined ? 'missing' : `"${type}"`}`);
        return;
      }
      if (type === 'bind' && !source) {
        problem(ctx, item.pos, `${w}: a bind mount needs a source (the host path)`);
        return;
      }
      m = { type, target, readOnly: scalarBool(item.entries.get('read_only')?.value, `${w}.read_only`, ctx) ?? false, pos: item.pos };
      if (source) {
        m.sourceText = source;
        m.source = type === 'bind' ? path.resolve(ctx.dir, source) : source;
      }
      const tmpfs = mapOf(item.entries.get('tmpfs')?.value, `${w}.tmpfs`, ctx)?.entries.get('size')?.value;
      if (tmpfs && isPScalar(tmpfs) && (typeof tmpfs.value === 'string' || typeof tmpfs.value === 'number')) m.tmpfsSize = parseBytes(tmpfs.value);
    } else if (isPScalar(item) && typeof item.value === 'string') {
      const parts = item.value.split(':');
      // Windows drive letters are not a concern on Linux hosts; "a:b:mode".
      if (parts.length > 3 || parts.some((p) => p === '')) {
        problem(ctx, item.pos, `${w}: "${item.value}" is not a valid volume (source:target[:mode])`);
        return;
      }
      if (parts.length === 1) {
        m = { type: 'volume', target: parts[0]!, readOnly: false, pos: item.pos };
      } else {
        const [source, target, mode] = parts as [string, string, string | undefined];
        const kind = mountSource(ctx, source);
        const modes = (mode ?? '').split(',').filter(Boolean);
        for (const md of modes) {
          if (!['ro', 'rw', 'z', 'Z', 'cached', 'delegated', 'consistent', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(md)) {
            problem(ctx, item.pos, `${w}: unknown volume mode "${md}"`);
          }
        }
        m = { type: kind.type, source: kind.abs ?? source, sourceText: source, target, readOnly: modes.includes('ro'), pos: item.pos };
      }
    } else {
      problem(ctx, item.pos, `${w} must be a "source:target" string or a mapping, not ${describe(item)}`);
      return;
    }
    if (!m.target.startsWith('/')) {
      problem(ctx, m.pos, `${w}: the container path "${m.target}" must be absolute`);
      return;
    }
    // Compose cleans the container path (`/var/www/html/` is `/var/www/html`).
    m.target = path.posix.normalize(m.target).replace(/(.)\/$/, '$1');
    if (m.type === 'volume' && m.source !== undefined && !declared.has(m.source)) {
      problem(ctx, m.pos, `${w}: volume "${m.source}" is not declared under the top-level volumes key`);
      return;
    }
    // Only paths inside the project are looked at: what the host has elsewhere must not change the output.
    if (m.type === 'bind' && m.source) m.hostKind = inside(ctx.dir, m.source) ? ctx.files.kind(m.source) : 'host';
    out.push(m);
  });
  return out;
}
