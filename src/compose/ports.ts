/**
 * `ports` (short `[ip:][host:]container[/proto]` with ranges, and long syntax) and `expose`.
 */
import type { ExposedPort, PortMapping, Protocol, SourcePos } from '../model/app.js';
import { describe, isPMap, isPScalar, type PNode } from './source.js';
import { checkKeys, listItems, type NormalizeContext, problem, scalarString } from './readers.js';

export const PROTOCOLS: Record<string, Protocol> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

export function portNumber(text: string, where: string, pos: SourcePos, ctx: NormalizeContext): number | undefined {
  if (!/^\d+$/.test(text)) {
    problem(ctx, pos, `${where}: "${text}" is not a port number`);
    return undefined;
  }
  const p = Number(text);
  if (p < 1 || p > 65535) {
    problem(ctx, pos, `${where}: port ${p} is out of range (1-65535)`);
    return undefined;
  }
  return p;
}

export function portRange(text: string, where: string, pos: SourcePos, ctx: NormalizeContext): number[] | undefined {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) {
    const p = portNumber(text, where, pos, ctx);
    return p === undefined ? undefined : [p];
  }
  const a = portNumber(m[1]!, where, pos, ctx);
  const b = portNumber(m[2]!, where, pos, ctx);
  if (a === undefined || b === undefined) return undefined;
  if (b < a) {
    problem(ctx, pos, `${where}: port range ${text} ends before it starts`);
    return undefined;
  }
  if (b - a >= 1000) {
    problem(ctx, pos, `${where}: port range ${text} has more than 1000 ports`);
    return undefined;
  }
  return Array.from({ length: b - a + 1 }, (_x, i) => a + i);
}

export function ports(n: PNode | undefined, where: string, ctx: NormalizeContext): PortMapping[] {
  const out: PortMapping[] = [];
  listItems(n, where, ctx).forEach((item, k) => {
    const w = `${where}[${k}]`;
    if (isPMap(item)) {
      checkKeys(item, w, ['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol'], ctx);
      const targetNode = item.entries.get('target')?.value;
      if (!targetNode) {
        problem(ctx, item.pos, `${w}: target is required`);
        return;
      }
      const target = portNumber(String(isPScalar(targetNode) ? targetNode.value : ''), `${w}.target`, targetNode.pos, ctx);
      const pubNode = item.entries.get('published')?.value;
      const published = pubNode && isPScalar(pubNode) ? portRange(String(pubNode.value), `${w}.published`, pubNode.pos, ctx) : undefined;
      const protoText = (scalarString(item.entries.get('protocol')?.value, `${w}.protocol`, ctx) ?? 'tcp').toLowerCase();
      const protocol = PROTOCOLS[protoText];
      if (!protocol) problem(ctx, item.entries.get('protocol')!.value.pos, `${w}.protocol must be tcp, udp or sctp, not "${protoText}"`);
      if (target === undefined || !protocol) return;
      const port: PortMapping = { target, published: published?.[0], hostIp: scalarString(item.entries.get('host_ip')?.value, `${w}.host_ip`, ctx), protocol, pos: item.pos };
      if (published && published.length > 1) port.publishedTo = published[published.length - 1];
      out.push(port);
      return;
    }
    if (!isPScalar(item) || item.value === null || typeof item.value === 'boolean') {
      problem(ctx, item.pos, `${w} must be a "host:container" string or a mapping, not ${describe(item)}`);
      return;
    }
    const text = String(item.value);
    let body = text;
    let protocol: Protocol = 'TCP';
    const slash = text.lastIndexOf('/');
    if (slash >= 0) {
      const p = PROTOCOLS[text.slice(slash + 1).toLowerCase()];
      if (!p) {
        problem(ctx, item.pos, `${w}: protocol must be tcp, udp or sctp, not "${text.slice(slash + 1)}"`);
        return;
      }
      protocol = p;
      body = text.slice(0, slash);
    }
    let hostIp: string | undefined;
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(body);
    if (v6) {
      hostIp = v6[1];
      body = v6[2]!;
    }
    const parts = body.split(':');
    if (!v6 && parts.length === 3) hostIp = parts.shift();
    else if (parts.length > 2 || (v6 && parts.length !== 2)) {
      problem(ctx, item.pos, `${w}: "${text}" is not a valid port mapping`);
      return;
    }
    const targets = portRange(parts[parts.length - 1]!, w, item.pos, ctx);
    const published = parts.length === 2 && parts[0] !== '' ? portRange(parts[0]!, w, item.pos, ctx) : undefined;
    if (!targets || (parts.length === 2 && parts[0] !== '' && !published)) return;
    if (published && published.length !== targets.length && published.length !== 1 && targets.length !== 1) {
      problem(ctx, item.pos, `${w}: "${text}" maps ${published.length} host ports to ${targets.length} container ports`);
      return;
    }
    // a host range for one container port is where Compose picks a free host port
    const hostRange = published && published.length > 1 && targets.length === 1 ? published[published.length - 1] : undefined;
    targets.forEach((target, i) => out.push({ target, published: published ? (published[i] ?? published[0]) : undefined, ...(hostRange ? { publishedTo: hostRange } : {}), hostIp, protocol, pos: item.pos }));
  });
  return out;
}

export function exposed(n: PNode | undefined, where: string, ctx: NormalizeContext): ExposedPort[] {
  const out: ExposedPort[] = [];
  listItems(n, where, ctx).forEach((item, k) => {
    if (!isPScalar(item) || item.value === null) {
      problem(ctx, item.pos, `${where}[${k}] must be a port, not ${describe(item)}`);
      return;
    }
    const [body, proto] = String(item.value).split('/');
    const protocol = PROTOCOLS[(proto ?? 'tcp').toLowerCase()];
    if (!protocol) {
      problem(ctx, item.pos, `${where}[${k}]: protocol must be tcp, udp or sctp, not "${proto}"`);
      return;
    }
    for (const port of portRange(body!, `${where}[${k}]`, item.pos, ctx) ?? []) out.push({ port, protocol, pos: item.pos });
  });
  return out;
}
