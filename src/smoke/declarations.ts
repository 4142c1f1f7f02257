/**
 * Smoke checks a project declares in its Compose file (Compose ignores `x-` keys):
 *
 *   x-stackport:                       # top level: each check names its service
 *     smoke:
 *       - http: { service: web, port: 80, path: /, status: 200, contains: "Hello" }
 *       - tcp: { service: db, port: 5432 }
 *       - exec: { service: db, command: ["pg_isready", "-q"], contains: "" }
 *   services:
 *     cache:
 *       x-stackport:
 *         smoke:                         # per service: the service is this one
 *           - exec: { command: redis-cli ping, contains: PONG }
 *
 * `port` is the container port (the same number on Compose and on the cluster); a check is run
 * the same way on both targets (src/smoke/targets.ts). Parsed from the loader's positioned tree,
 * so a malformed declaration is reported at file:line:col.
 */
import type { SourcePos } from '../model/app.js';
import { StackportError, ValidationError } from '../errors.js';
import type { PNode, Problem } from '../compose/source.js';

interface Base {
  /** The Compose service the check is about. */
  service: string;
  /** Shown in the results; defaults to a description of the check. */
  name: string;
  pos?: SourcePos;
}

export interface HttpCheck extends Base {
  kind: 'http';
  port: number;
  path: string;
  method: 'GET' | 'HEAD' | 'POST';
  /** Expected status (default 200). */
  status: number;
  contains?: string;
}

export interface TcpCheck extends Base {
  kind: 'tcp';
  port: number;
}

export interface ExecCheck extends Base {
  kind: 'exec';
  /** argv; a string is run with `sh -c`. */
  command: string[];
  /** Expected exit code (default 0). */
  exitCode: number;
  contains?: string;
}

/** The stackport demo API's message round trip (PostgreSQL, RabbitMQ) and its data-kept check. */
export interface MessagesCheck extends Base {
  kind: 'messages';
  port: number;
}

export type SmokeCheck = HttpCheck | TcpCheck | ExecCheck | MessagesCheck;

const KINDS = ['http', 'tcp', 'exec', 'messages'] as const;
const KEYS: Record<(typeof KINDS)[number], string[]> = {
  http: ['service', 'name', 'port', 'path', 'method', 'status', 'contains'],
  tcp: ['service', 'name', 'port'],
  exec: ['service', 'name', 'command', 'exit_code', 'contains'],
  messages: ['service', 'name', 'port'],
};

type Scalarish = string | number | boolean | null;

/** As written, with Compose's `$$` escape undone (the checks run the text Compose would pass on). */
function scalar(n: PNode | undefined): Scalarish | undefined {
  if (!n || n.kind !== 'scalar') return undefined;
  return typeof n.value === 'string' ? n.value.replace(/\$\$/g, '$') : n.value;
}

/**
 * The `smoke` list of one `x-stackport` mapping. `service` is set for a per-service list (the
 * checks may not name another service); `services` are the names the file declares.
 */
export function parseSmokeList(list: PNode, where: string, services: Set<string>, problems: Problem[], service?: string): SmokeCheck[] {
  const out: SmokeCheck[] = [];
  const bad = (pos: SourcePos, message: string) => problems.push({ message, pos });
  if (list.kind !== 'seq') {
    bad(list.pos, `${where} must be a list of checks (- http: {...}, - tcp: {...}, - exec: {...})`);
    return out;
  }
  list.items.forEach((item, i) => {
    const at = `${where}[${i}]`;
    if (item.kind !== 'map' || item.entries.size !== 1) {
      bad(item.pos, `${at} must be a mapping with one key, the kind of check: ${KINDS.join(', ')}`);
      return;
    }
    const [kind, entry] = [...item.entries][0]!;
    if (!(KINDS as readonly string[]).includes(kind)) {
      bad(entry.keyPos, `${at}: unknown kind of check "${kind}" (known: ${KINDS.join(', ')})`);
      return;
    }
    const k = kind as (typeof KINDS)[number];
    const spec = entry.value;
    if (spec.kind !== 'map') {
      bad(spec.pos, `${at}.${k} must be a mapping (e.g. { service: web, port: 80 })`);
      return;
    }
    const before = problems.length;
    for (const [key, e] of spec.entries) {
      if (!KEYS[k].includes(key)) bad(e.keyPos, `${at}.${k}: unknown key "${key}" (allowed: ${KEYS[k].join(', ')})`);
    }
    const get = (key: string) => spec.entries.get(key)?.value;
    const str = (key: string): string | undefined => {
      const n = get(key);
      if (!n) return undefined;
      const v = scalar(n);
      if (typeof v === 'string' || typeof v === 'number') return String(v);
      bad(n.pos, `${at}.${k}.${key} must be a string`);
      return undefined;
    };
    const int = (key: string, min: number, max: number): number | undefined => {
      const n = get(key);
      if (!n) return undefined;
      const v = scalar(n);
      const num = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(num) || num < min || num > max) {
        bad(n.pos, `${at}.${k}.${key} must be a whole number from ${min} to ${max}`);
        return undefined;
      }
      return num;
    };
    let svc = service;
    const named = str('service');
    if (service && named && named !== service) bad(get('service')!.pos, `${at}.${k}.service: a check under services.${service} is about ${service}, not ${named} (declare it at the top level)`);
    if (!service) {
      if (!named) bad(spec.pos, `${at}.${k}.service is required at the top level (which service to check)`);
      else if (!services.has(named)) bad(get('service')!.pos, `${at}.${k}.service: no service "${named}" in the file (services: ${[...services].join(', ')})`);
      svc = named;
    }
    const name = str('name');
    const port = k === 'exec' ? undefined : int('port', 1, 65535);
    if (k !== 'exec' && !get('port')) bad(spec.pos, `${at}.${k}.port is required (the container port)`);
    if (problems.length > before || !svc) return;
    const pos = entry.keyPos;
    if (k === 'http') {
      const path = str('path') ?? '/';
      if (!path.startsWith('/')) {
        bad(get('path')!.pos, `${at}.http.path must start with /`);
        return;
      }
      const method = (str('method') ?? 'GET').toUpperCase();
      if (!['GET', 'HEAD', 'POST'].includes(method)) {
        bad(get('method')!.pos, `${at}.http.method must be GET, HEAD or POST`);
        return;
      }
      const status = int('status', 100, 599) ?? 200;
      const contains = str('contains');
      if (problems.length > before) return;
      out.push({ kind: 'http', service: svc, port: port!, path, method: method as HttpCheck['method'], status, contains, pos, name: name ?? `http ${svc}:${port}${path} answers ${status}${contains ? ` containing ${contains}` : ''}` });
    } else if (k === 'tcp') {
      out.push({ kind: 'tcp', service: svc, port: port!, pos, name: name ?? `tcp ${svc}:${port} accepts connections` });
    } else if (k === 'messages') {
      out.push({ kind: 'messages', service: svc, port: port!, pos, name: name ?? `messages round trip and data kept via ${svc}:${port}` });
    } else {
      const c = get('command');
      let command: string[] | undefined;
      if (!c) bad(spec.pos, `${at}.exec.command is required (a string for sh -c, or a list)`);
      else if (c.kind === 'seq' && c.items.length && c.items.every((x) => x.kind === 'scalar' && x.value !== null)) command = c.items.map((x) => String(scalar(x)));
      else if (c.kind === 'scalar' && typeof c.value === 'string' && c.value.trim()) command = ['sh', '-c', String(scalar(c))];
      else bad(c.pos, `${at}.exec.command must be a non-empty string or list of strings`);
      const exitCode = int('exit_code', 0, 255) ?? 0;
      const contains = str('contains');
      if (!command || problems.length > before) return;
      const shown = command[0] === 'sh' && command[1] === '-c' ? command[2]! : command.join(' ');
      out.push({ kind: 'exec', service: svc, command, exitCode, contains, pos, name: name ?? `exec in ${svc}: ${shown}${contains ? ` says ${contains}` : ''}` });
    }
  });
  return out;
}

/** Problems in a service's `x-stackport.smoke` (the loader's one call: generate reports them too). */
export function serviceSmokeProblems(ext: PNode | undefined, service: string, where: string): Problem[] {
  const problems: Problem[] = [];
  const list = ext?.kind === 'map' ? ext.entries.get('smoke')?.value : undefined;
  if (list) parseSmokeList(list, `${where}.smoke`, new Set([service]), problems, service);
  return problems;
}

/**
 * The checks of a project made of several files (-f a -f b), from each file's tree as written (read
 * once, by the loader's readComposeFiles): each file's top-level list is kept (in order), and a
 * service's list in a later file replaces the earlier one (Compose merges an `x-` mapping by
 * replacing it). Any problem: one ValidationError (exit 2), file:line:col each.
 */
export function smokeDeclarations(roots: PNode[]): SmokeCheck[] {
  const top: SmokeCheck[] = [];
  const perService = new Map<string, SmokeCheck[]>();
  const problems: Problem[] = [];
  const allNames = new Set<string>();
  for (const root of roots) {
    const svcs = root.kind === 'map' ? root.entries.get('services')?.value : undefined;
    if (svcs?.kind === 'map') for (const k of svcs.entries.keys()) allNames.add(k);
  }
  for (const root of roots) {
    if (root.kind !== 'map') continue;
    // a later file may name services an earlier one declared
    const services = root.entries.get('services')?.value;
    const names = new Set([...allNames]);
    const topList = root.entries.get('x-stackport')?.value;
    if (topList) {
      if (topList.kind !== 'map') problems.push({ message: 'x-stackport must be a mapping', pos: topList.pos });
      else if (topList.entries.get('smoke')) top.push(...parseSmokeList(topList.entries.get('smoke')!.value, 'x-stackport.smoke', names, problems));
    }
    if (services?.kind === 'map') {
      for (const [name, e] of services.entries) {
        const ext = e.value.kind === 'map' ? e.value.entries.get('x-stackport')?.value : undefined;
        const list = ext?.kind === 'map' ? ext.entries.get('smoke')?.value : undefined;
        if (list) perService.set(name, parseSmokeList(list, `services.${name}.x-stackport.smoke`, names, problems, name));
      }
    }
  }
  if (problems.length) {
    throw new ValidationError(
      problems.map((p) => new StackportError(p.message, { position: p.pos, exitCode: 2 })),
      { hint: 'fix the smoke declaration (x-stackport.smoke); nothing was started', exitCode: 2 },
    );
  }
  return [...top, ...[...perService.keys()].sort().flatMap((k) => perService.get(k)!)];
}
