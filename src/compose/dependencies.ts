/**
 * `depends_on` (list or mapping with condition/required) and the checks across services: unknown
 * services, services left out by profiles, cycles.
 */
import type { Dependency, DependencyCondition, Service, SourcePos } from '../model/app.js';
import { describe, isPMap, isPSeq, type PNode } from './source.js';
import { restart } from './deploy.js';
import { healthcheck } from './healthcheck.js';
import { checkKeys, mapOf, type NormalizeContext, problem, scalarBool, scalarString, warn } from './readers.js';
import { service } from './services.js';

export const CONDITIONS: DependencyCondition[] = ['service_started', 'service_healthy', 'service_completed_successfully'];

export function dependsOn(n: PNode | undefined, where: string, ctx: NormalizeContext): Dependency[] {
  if (!n) return [];
  if (isPSeq(n)) {
    return n.items
      .map((i, k) => ({ name: scalarString(i, `${where}[${k}]`, ctx), pos: i.pos }))
      .filter((x): x is { name: string; pos: SourcePos } => x.name !== undefined)
      .map((x) => ({ service: x.name, condition: 'service_started', required: true, pos: x.pos }));
  }
  if (!isPMap(n)) {
    problem(ctx, n.pos, `${where} must be a list or a mapping, not ${describe(n)}`);
    return [];
  }
  const out: Dependency[] = [];
  for (const [name, e] of n.entries) {
    const spec = mapOf(e.value, `${where}.${name}`, ctx);
    let condition: DependencyCondition = 'service_started';
    let required = true;
    if (spec) {
      checkKeys(spec, `${where}.${name}`, ['condition', 'required', 'restart'], ctx);
      const c = scalarString(spec.entries.get('condition')?.value, `${where}.${name}.condition`, ctx);
      if (c !== undefined) {
        if (CONDITIONS.includes(c as DependencyCondition)) condition = c as DependencyCondition;
        else problem(ctx, spec.entries.get('condition')!.value.pos, `${where}.${name}.condition must be one of ${CONDITIONS.join(', ')}, not "${c}"`);
      }
      required = scalarBool(spec.entries.get('required')?.value, `${where}.${name}.required`, ctx) ?? true;
    }
    out.push({ service: name, condition, required, pos: e.keyPos });
  }
  return out;
}

export function checkDependencies(all: Service[], active: Service[], ctx: NormalizeContext): void {
  const byName = new Map(all.map((s) => [s.name, s]));
  const activeNames = new Set(active.map((s) => s.name));
  for (const s of active) {
    s.dependsOn = s.dependsOn.filter((d) => {
      const target = byName.get(d.service);
      if (!target) {
        if (d.required) problem(ctx, d.pos, `services.${s.name}.depends_on: unknown service "${d.service}"`);
        return false;
      }
      if (!activeNames.has(d.service)) {
        if (d.required) problem(ctx, d.pos, `services.${s.name}.depends_on: service "${d.service}" is not enabled by the selected profiles (it needs --profile ${target.profiles[0]})`);
        return false;
      }
      if (d.condition === 'service_healthy' && !target.healthcheck) {
        warn(ctx, d.pos, `services.${s.name}.depends_on.${d.service}: service_healthy but "${d.service}" has no healthcheck; waiting until its Service accepts connections`);
      }
      return true;
    });
  }
  // Cycles: depth-first search over active services, reported once per cycle at its first edge.
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: { name: string; dep?: Dependency }[] = [];
  const reported = new Set<string>();
  const byActive = new Map(active.map((s) => [s.name, s]));
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    for (const d of byActive.get(name)?.dependsOn ?? []) {
      stack.push({ name, dep: d });
      if (state.get(d.service) === 'visiting') {
        const start = stack.findIndex((f) => f.name === d.service);
        const cycle = stack.slice(start);
        const names = [...cycle.map((f) => f.name), d.service];
        const key = [...names.slice(0, -1)].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          problem(ctx, cycle[0]!.dep!.pos, `services.${cycle[0]!.name}.depends_on: dependency cycle ${names.join(' -> ')}`);
        }
      } else if (!state.has(d.service)) visit(d.service);
      stack.pop();
    }
    state.set(name, 'done');
  };
  for (const s of active) if (!state.has(s.name)) visit(s.name);
}
