/**
 * Top-level networks and a service's `networks` (list or mapping).
 */
import type { NetworkDef, SourcePos } from '../model/app.js';
import { describe, isPMap, isPSeq, type PNode } from './source.js';
import { checkKeys, mapOf, type NormalizeContext, problem, scalarBool, scalarString, warn } from './readers.js';
import { service } from './services.js';

export function networkDefs(n: PNode | undefined, ctx: NormalizeContext): NetworkDef[] {
  const m = mapOf(n, 'networks', ctx);
  const out: NetworkDef[] = [];
  if (!m) return out;
  for (const [name, e] of m.entries) {
    const spec = mapOf(e.value, `networks.${name}`, ctx);
    const def: NetworkDef = { name, internal: false, external: false, pos: e.keyPos };
    if (spec) {
      checkKeys(spec, `networks.${name}`, ['driver', 'driver_opts', 'attachable', 'enable_ipv6', 'enable_ipv4', 'ipam', 'internal', 'labels', 'external', 'name'], ctx);
      def.internal = scalarBool(spec.entries.get('internal')?.value, `networks.${name}.internal`, ctx) ?? false;
      const ext = spec.entries.get('external')?.value;
      def.external = isPMap(ext) ? true : (scalarBool(ext, `networks.${name}.external`, ctx) ?? false);
      const ipam = spec.entries.get('ipam');
      if (ipam) warn(ctx, ipam.keyPos, `networks.${name}.ipam: pod addresses come from the cluster's network plugin; ignored`);
    }
    out.push(def);
  }
  return out;
}

export function serviceNetworks(n: PNode | undefined, where: string, ctx: NormalizeContext, defs: NetworkDef[]): string[] {
  if (!n) return ['default'];
  const names = new Set(['default', ...defs.map((d) => d.name)]);
  const out: string[] = [];
  const add = (name: string, pos: SourcePos) => {
    if (!names.has(name)) problem(ctx, pos, `${where}: network "${name}" is not declared under the top-level networks key`);
    else out.push(name);
  };
  if (isPSeq(n)) n.items.forEach((i, k) => {
    const s = scalarString(i, `${where}[${k}]`, ctx);
    if (s !== undefined) add(s, i.pos);
  });
  else if (isPMap(n)) {
    for (const [name, e] of n.entries) {
      add(name, e.keyPos);
      const spec = mapOf(e.value, `${where}.${name}`, ctx);
      if (!spec) continue;
      for (const k of ['ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'priority', 'gw_priority', 'driver_opts']) {
        const x = spec.entries.get(k);
        if (x) warn(ctx, x.keyPos, `${where}.${name}.${k}: pod addresses come from the cluster's network plugin; ignored`);
      }
      const aliases = spec.entries.get('aliases');
      if (aliases) warn(ctx, aliases.keyPos, `${where}.${name}.aliases: only the service name resolves in the cluster; aliases ignored`);
    }
  } else problem(ctx, n.pos, `${where} must be a list or a mapping, not ${describe(n)}`);
  return out.sort();
}
