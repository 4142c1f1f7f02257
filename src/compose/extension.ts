/**
 * The `x-stackport` service extension (Compose ignores `x-` keys; stackport reads this one).
 */
import type { Service } from '../model/app.js';
import { checkKeys, mapOf, problem, scalarInt, warn, type NormalizeContext } from './normalize.js';
import type { PNode } from './source.js';
import { parseDevSpec } from '../dev/sync-spec.js';

/** `x-stackport: { autoscale: { min, max, cpu } }` (Compose ignores `x-` keys; we do not). */
export function autoscale(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  const ext = mapOf(n, where, ctx);
  if (!ext) return;
  checkKeys(ext, where, ['autoscale', 'dev', 'smoke'], ctx);
  svc.dev = parseDevSpec(ext.entries.get('dev')?.value, `${where}.dev`, ctx.problems);
  const entry = ext.entries.get('autoscale');
  const a = mapOf(entry?.value, `${where}.autoscale`, ctx);
  if (!a || !entry) return;
  const at = `${where}.autoscale`;
  checkKeys(a, at, ['min', 'max', 'cpu'], ctx);
  const node = (k: string) => a.entries.get(k)?.value;
  const problemsBefore = ctx.problems.length;
  const min = scalarInt(node('min'), `${at}.min`, ctx, 1) ?? 1;
  const max = scalarInt(node('max'), `${at}.max`, ctx, 1);
  const cpu = scalarInt(node('cpu'), `${at}.cpu`, ctx, Number.MIN_SAFE_INTEGER) ?? 80;
  if (!node('max')) problem(ctx, a.pos, `${at}.max is required (the most replicas the autoscaler may run)`);
  if (cpu < 1 || cpu > 100) problem(ctx, node('cpu')!.pos, `${at}.cpu must be a utilisation percentage between 1 and 100, not ${cpu}`);
  if (max !== undefined && min > max) problem(ctx, node('min')!.pos, `${at}.min (${min}) must not exceed max (${max})`);
  if (svc.mode === 'global') problem(ctx, entry.keyPos, `${at}: a global service runs one pod per node and cannot be autoscaled`);
  if (ctx.problems.length > problemsBefore || max === undefined) return;
  if (svc.replicas !== 1 && (svc.replicas < min || svc.replicas > max)) {
    warn(ctx, entry.keyPos, `${at}: replicas ${svc.replicas} is outside min..max (${min}..${max}); the autoscaler keeps the count between them`);
  }
  svc.autoscale = { min, max, cpu, pos: entry.keyPos };
}
