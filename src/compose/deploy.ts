/**
 * `restart`, `deploy` (mode, replicas, resources, update_config, restart_policy, placement) and the
 * legacy `cpus`/`mem_limit`/`mem_reservation` keys.
 */
import type { PlacementConstraint, ResourceSpec, RestartPolicy, Service, SourcePos, UpdatePolicy } from '../model/app.js';
import { describe, isPScalar, isPSeq, type PMap, type PNode } from './source.js';
import { parseBytes } from './units.js';
import { checkKeys, mapOf, type NormalizeContext, problem, scalarInt, scalarString, stringList, stringMap, warn } from './readers.js';

export const RESTARTS: RestartPolicy[] = ['no', 'always', 'on-failure', 'unless-stopped'];

export function restart(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  if (!n) return;
  // `restart: no` unquoted is the boolean false in YAML 1.1 eyes; Compose accepts both.
  if (isPScalar(n) && n.value === false) {
    svc.restart = 'no';
    return;
  }
  const text = scalarString(n, where, ctx);
  if (text === undefined) return;
  const [policy, attempts] = text.split(':');
  if (!RESTARTS.includes(policy as RestartPolicy) || (attempts !== undefined && (policy !== 'on-failure' || !/^\d+$/.test(attempts)))) {
    problem(ctx, n.pos, `${where} must be no, always, on-failure[:N] or unless-stopped, not "${text}"`);
    return;
  }
  svc.restart = policy as RestartPolicy;
  if (attempts !== undefined) svc.maxRestartAttempts = Number(attempts);
}

export function resources(n: PNode | undefined, where: string, ctx: NormalizeContext): ResourceSpec {
  const m = mapOf(n, where, ctx);
  const out: ResourceSpec = {};
  if (!m) return out;
  checkKeys(m, where, ['cpus', 'memory', 'pids', 'devices', 'generic_resources'], ctx);
  const cpus = m.entries.get('cpus')?.value;
  if (cpus) {
    const text = isPScalar(cpus) ? String(cpus.value) : '';
    if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) problem(ctx, cpus.pos, `${where}.cpus must be a positive number like 0.5, not ${describe(cpus)}`);
    else out.cpus = text;
  }
  const memory = m.entries.get('memory')?.value;
  if (memory) {
    const bytes = isPScalar(memory) && (typeof memory.value === 'string' || typeof memory.value === 'number') ? parseBytes(memory.value) : undefined;
    if (bytes === undefined) problem(ctx, memory.pos, `${where}.memory must be a size like 512M, not ${describe(memory)}`);
    else out.memoryBytes = bytes;
  }
  for (const k of ['devices', 'generic_resources', 'pids']) {
    const e = m.entries.get(k);
    if (e) warn(ctx, e.keyPos, `${where}.${k}: no Kubernetes equivalent in a plain pod spec; ignored`);
  }
  return out;
}

export function deploy(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  const m = mapOf(n, where, ctx);
  if (!m) return;
  checkKeys(m, where, ['mode', 'replicas', 'labels', 'resources', 'update_config', 'rollback_config', 'restart_policy', 'placement', 'endpoint_mode'], ctx);
  const mode = scalarString(m.entries.get('mode')?.value, `${where}.mode`, ctx);
  if (mode !== undefined) {
    if (mode === 'global') svc.mode = 'global';
    else if (mode === 'replicated-job' || mode === 'global-job') {
      warn(ctx, m.entries.get('mode')!.keyPos, `${where}.mode ${mode}: generated as a Job`);
      svc.restart = svc.restart ?? 'on-failure';
    } else if (mode !== 'replicated') problem(ctx, m.entries.get('mode')!.value.pos, `${where}.mode must be replicated or global, not "${mode}"`);
  }
  const replicas = scalarInt(m.entries.get('replicas')?.value, `${where}.replicas`, ctx);
  if (replicas !== undefined) svc.replicas = replicas;
  svc.deployLabels = stringMap(m.entries.get('labels')?.value, `${where}.labels`, ctx);
  const res = mapOf(m.entries.get('resources')?.value, `${where}.resources`, ctx);
  if (res) {
    checkKeys(res, `${where}.resources`, ['limits', 'reservations'], ctx);
    svc.limits = resources(res.entries.get('limits')?.value, `${where}.resources.limits`, ctx);
    svc.reservations = resources(res.entries.get('reservations')?.value, `${where}.resources.reservations`, ctx);
  }
  const upd = mapOf(m.entries.get('update_config')?.value, `${where}.update_config`, ctx);
  if (upd) {
    checkKeys(upd, `${where}.update_config`, ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order'], ctx);
    const order = scalarString(upd.entries.get('order')?.value, `${where}.update_config.order`, ctx) ?? 'stop-first';
    if (order !== 'start-first' && order !== 'stop-first') problem(ctx, upd.entries.get('order')!.value.pos, `${where}.update_config.order must be start-first or stop-first, not "${order}"`);
    const policy: UpdatePolicy = { order: order === 'start-first' ? 'start-first' : 'stop-first' };
    const par = scalarInt(upd.entries.get('parallelism')?.value, `${where}.update_config.parallelism`, ctx);
    if (par !== undefined && par > 0) policy.parallelism = par;
    for (const k of ['delay', 'failure_action', 'monitor', 'max_failure_ratio']) {
      const e = upd.entries.get(k);
      if (e) warn(ctx, e.keyPos, `${where}.update_config.${k}: Kubernetes rolling updates have no ${k}; ignored (see minReadySeconds and progressDeadlineSeconds)`);
    }
    svc.update = policy;
  }
  const rb = m.entries.get('rollback_config');
  if (rb) warn(ctx, rb.keyPos, `${where}.rollback_config: Kubernetes rolls back with \`kubectl rollout undo\`; ignored`);
  const rp = mapOf(m.entries.get('restart_policy')?.value, `${where}.restart_policy`, ctx);
  if (rp) {
    checkKeys(rp, `${where}.restart_policy`, ['condition', 'delay', 'max_attempts', 'window'], ctx);
    const cond = scalarString(rp.entries.get('condition')?.value, `${where}.restart_policy.condition`, ctx);
    if (cond !== undefined) {
      const map: Record<string, RestartPolicy> = { none: 'no', 'on-failure': 'on-failure', any: 'always' };
      if (map[cond]) svc.restart = map[cond]!;
      else problem(ctx, rp.entries.get('condition')!.value.pos, `${where}.restart_policy.condition must be none, on-failure or any, not "${cond}"`);
    }
    const attempts = scalarInt(rp.entries.get('max_attempts')?.value, `${where}.restart_policy.max_attempts`, ctx);
    if (attempts !== undefined) svc.maxRestartAttempts = attempts;
  }
  const placement = mapOf(m.entries.get('placement')?.value, `${where}.placement`, ctx);
  if (placement) {
    checkKeys(placement, `${where}.placement`, ['constraints', 'preferences', 'max_replicas_per_node'], ctx);
    const list = placement.entries.get('constraints')?.value;
    stringList(list, `${where}.placement.constraints`, ctx).forEach((c, k) => {
      const pos = isPSeq(list) ? (list.items[k]?.pos ?? list.pos) : list!.pos;
      const pc = constraint(c, pos);
      if (pc) svc.placement.push(pc);
      else warn(ctx, pos, `${where}.placement.constraints: "${c}" has no Kubernetes equivalent; ignored`);
    });
    for (const k of ['preferences', 'max_replicas_per_node']) {
      const e = placement.entries.get(k);
      if (e) warn(ctx, e.keyPos, `${where}.placement.${k}: replicas are spread across nodes with topologySpreadConstraints instead`);
    }
  }
}

/** Swarm placement constraints that name node labels or hostnames -> node affinity terms. */
export function constraint(text: string, pos: SourcePos): PlacementConstraint | undefined {
  const m = /^\s*([\w.\-/]+)\s*(==|!=)\s*(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  const [, field, op, value] = m as unknown as [string, string, string, string];
  const operator = op === '==' ? 'In' : 'NotIn';
  if (field.startsWith('node.labels.')) return { key: field.slice('node.labels.'.length), operator, value, pos };
  if (field === 'node.hostname') return { key: 'kubernetes.io/hostname', operator, value, pos };
  if (field === 'node.platform.os') return { key: 'kubernetes.io/os', operator, value, pos };
  if (field === 'node.platform.arch') return { key: 'kubernetes.io/arch', operator, value: value === 'x86_64' ? 'amd64' : value === 'aarch64' ? 'arm64' : value, pos };
  if (field === 'node.role') return { key: 'node-role.kubernetes.io/control-plane', operator: value === 'manager' ? operator : operator === 'In' ? 'NotIn' : 'In', value: '', pos };
  return undefined;
}

export function legacyResources(svc: Service, n: PMap, where: string, ctx: NormalizeContext): void {
  const cpus = n.entries.get('cpus')?.value;
  if (cpus && svc.limits.cpus === undefined) {
    const text = isPScalar(cpus) ? String(cpus.value) : '';
    if (/^\d+(\.\d+)?$/.test(text) && Number(text) > 0) svc.limits.cpus = text;
    else problem(ctx, cpus.pos, `${where}.cpus must be a positive number like 0.5, not ${describe(cpus)}`);
  }
  for (const [key, target] of [['mem_limit', svc.limits], ['mem_reservation', svc.reservations]] as const) {
    const node = n.entries.get(key)?.value;
    if (!node || target.memoryBytes !== undefined) continue;
    const bytes = isPScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? parseBytes(node.value) : undefined;
    if (bytes === undefined) problem(ctx, node.pos, `${where}.${key} must be a size like 512m, not ${describe(node)}`);
    else target.memoryBytes = bytes;
  }
}
