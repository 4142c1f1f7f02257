/**
 * One update: a batch of changed files of one service becomes a sync (files copied into every
 * running instance, compiled first where the rule says, the main process signalled where it
 * says) or a rebuild (image, delivery, roll of that service only). Then that service's smoke
 * checks, and one line. A failed compile, build, roll or smoke check leaves the previous version
 * serving (a sync copies nothing until everything compiled; a rebuild rolls back) and the
 * error keeps the failing command's output.
 */
import path from 'node:path';
import { StackportError } from '../errors.js';
import { waitFor } from '../exec/wait.js';
import type { DevSpec, DevSync } from '../model/app.js';
import type { CheckResult } from '../smoke/smoke.js';
import { formatMs } from '../ui/progress.js';
import { tarOf, type Placed } from './archive.js';
import type { Toolchain } from './compile.js';
import { smokeService } from './smoke-service.js';
import { destFor, ruleFor } from './sync-spec.js';
import type { DevService, DevTarget, Instance } from './target.js';
import type { Change } from './watch.js';

export const RESTART_FILE = '/tmp/stackport-restart';

export interface WatchedService extends DevService {
  dev?: DevSpec;
}

export interface UpdateResult {
  service: string;
  files: string[];
  action: 'sync' | 'rebuild+roll';
  ok: boolean;
  /** First change seen -> the change is live (copied and restarted, or rolled and ready). */
  liveMs?: number;
  smoke: CheckResult[];
  /** A sync's phases in ms (compile, copy, restart), in order. */
  phases?: Record<string, number>;
  line: string;
  error?: StackportError;
}

export interface UpdateContext {
  target: DevTarget;
  project: string;
  /** Hashes of what each compile rule copied last, to copy changed outputs only. */
  outputs: Map<string, Map<string, string>>;
  /** The warm compile container of each (service, stage). */
  toolchains: Map<string, Toolchain>;
  onRolled?: () => void;
  /** The running instances of a service, looked up when a burst of changes began. */
  lookups?: Map<string, { at: number; instances: Promise<Instance[]> }>;
  /** After a rebuild: the service's compile stages follow (new dependencies). */
  onRebuilt?: (svc: WatchedService) => Promise<void>;
}

/** sync when every file falls under a sync rule, else rebuild. */
export function plan(spec: DevSpec | undefined, files: string[]): { action: 'sync'; rules: Map<DevSync, string[]> } | { action: 'rebuild+roll'; because: string } {
  const rules = new Map<DevSync, string[]>();
  for (const f of files) {
    const r = ruleFor(spec, f);
    if (!r) return { action: 'rebuild+roll', because: f };
    rules.set(r, [...(rules.get(r) ?? []), f]);
  }
  return { action: 'sync', rules };
}

function summary(files: string[]): string {
  return files.length <= 3 ? files.join(', ') : `${files.slice(0, 2).join(', ')} and ${files.length - 2} more`;
}

export async function applyChange(ctx: UpdateContext, svc: WatchedService, change: Change): Promise<UpdateResult> {
  const p = plan(svc.dev, change.files);
  const what = `${svc.name}: ${summary(change.files)}`;
  let did = '';
  const phases: Record<string, number> = {};
  try {
    if (p.action === 'sync') did = await sync(ctx, svc, change, p.rules, phases);
    else {
      const rolled = await ctx.target.rebuild(svc, () => undefined);
      ctx.lookups?.delete(svc.name);
      did = `rebuild+roll (${rolled.did})`;
      ctx.onRolled?.();
      await ctx.onRebuilt?.(svc);
    }
  } catch (err) {
    const e = err instanceof StackportError ? err : new StackportError((err as Error).message, { cause: err });
    const line = `✗ ${what} -> ${p.action} failed after ${formatMs(Date.now() - change.firstAt)}: ${e.message}; the previous version keeps serving`;
    return { service: svc.name, files: change.files, action: p.action, ok: false, smoke: [], line, error: e };
  }
  const liveMs = Date.now() - change.firstAt;
  const smoke = await smokeService(svc.name, ctx.target.smokeTarget(), await ctx.target.projectChecks?.());
  const failed = smoke.filter((r) => !r.ok);
  let tail = `smoke ${failed.length ? `FAILED (${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')})` : `ok (${smoke.length} check${smoke.length === 1 ? '' : 's'}, ${smoke.reduce((n, r) => n + r.ms, 0)} ms)`}`;
  let error: StackportError | undefined;
  if (failed.length) {
    error = new StackportError(`${svc.name}: smoke checks failed after the update`, { details: failed.map((f) => `${f.name}: ${f.detail}`).join('\n') });
    if (p.action === 'rebuild+roll') {
      await ctx.target.undo(svc).then(
        () => (tail += '; rolled back to the previous version'),
        (e) => (tail += `; rollback failed too: ${(e as Error).message}`),
      );
    }
  }
  const line = `${failed.length ? '✗' : '✓'} ${what} -> ${did}; live in ${formatMs(liveMs)}; ${tail}`;
  return { service: svc.name, files: change.files, action: p.action, ok: failed.length === 0, liveMs, smoke, phases, line, error };
}

async function sync(ctx: UpdateContext, svc: WatchedService, change: Change, rules: Map<DevSync, string[]>, took: Record<string, number>): Promise<string> {
  const placed: Placed[] = [];
  const removed: string[] = [];
  const restart = new Set<NodeJS.Signals>();
  const compiled: { key: string; files: Map<string, string>; dispose: () => void }[] = [];
  const phases: string[] = [];
  let t = Date.now();
  const phase = (name: string) => {
    took[name] = Date.now() - t;
    phases.push(`${name} ${formatMs(Date.now() - t)}`);
    t = Date.now();
  };
  // the running instances were looked up during the quiet period, or are now, while the files
  // are compiled and packed (a lookup older than 2 s is not trusted)
  const early = ctx.lookups?.get(svc.name);
  ctx.lookups?.delete(svc.name);
  const lookup = early && Date.now() - early.at < 2000 ? early.instances : ctx.target.instances(svc.name);
  lookup.catch(() => undefined);
  try {
    // everything is compiled before any instance is touched
    for (const [rule, files] of rules) {
      if (rule.compile) {
        const key = `${svc.name}\0${rule.src}\0${rule.dest}`;
        const toolchain = ctx.toolchains.get(`${svc.name}\0${rule.compile.stage}`);
        if (!toolchain) throw new StackportError(`${svc.name}: no toolchain for stage ${rule.compile.stage}`);
        const out = await toolchain.compile(rule as DevSync & { compile: NonNullable<DevSync['compile']> }, svc.context);
        compiled.push({ key, files: out.files, dispose: out.dispose });
        const before = ctx.outputs.get(key);
        for (const [rel, hash] of out.files) if (before?.get(rel) !== hash) placed.push({ from: path.join(out.dir, rel), to: path.posix.join(rule.dest, rel) });
      } else {
        for (const f of files) {
          if (change.removed.includes(f)) removed.push(destFor(rule, f));
          else placed.push({ from: path.join(svc.context, f), to: destFor(rule, f) });
        }
      }
      if (rule.restart) restart.add(rule.restart);
    }
    if (compiled.length) phase('compile');
    const archive = placed.length ? tarOf(placed) : undefined;
    archive?.catch(() => undefined);
    const instances = await lookup;
    if (instances.length === 0) throw new StackportError(`no running ${ctx.target.name === 'compose' ? 'container' : 'pod'} of ${svc.name} to copy into`, { hint: ctx.target.name === 'compose' ? 'start the stack: make up' : 'migrate it: make migrate' });
    if (placed.length === 0 && removed.length === 0) return `sync: nothing new to copy (${instances.length} ${unit(ctx, instances.length)})`;
    // each instance's last restart word is read while the files are copied (one exec less after)
    const befores = restart.size ? instances.map((i) => readRestartFile(ctx.target, svc.name, i)) : [];
    await Promise.all(instances.map(async (i) => {
      if (archive) await ctx.target.copy(svc.name, i, await archive);
      if (removed.length) await ctx.target.exec(svc.name, i, ['rm', '-f', '--', ...removed]);
    }));
    for (const c of compiled) ctx.outputs.set(c.key, c.files);
    phase('copy');
    let first = true;
    for (const signal of restart) {
      await Promise.all(instances.map(async (i, n) => restartInPlace(ctx.target, svc.name, i, signal, first ? await befores[n] : undefined)));
      first = false;
    }
    if (restart.size) phase('restart');
    const n = placed.length + removed.length;
    return `sync ${n} file${n === 1 ? '' : 's'} to ${instances.length} ${unit(ctx, instances.length)}${restart.size ? `, restarted in place (${[...restart].join(', ')})` : ''}${phases.length > 1 ? ` [${phases.join(', ')}]` : ''}`;
  } finally {
    for (const c of compiled) c.dispose();
  }
}

const unit = (ctx: UpdateContext, n: number) => (ctx.target.name === 'compose' ? (n === 1 ? 'container' : 'containers') : n === 1 ? 'pod' : 'pods');

/** The main process's last restart word ('' before the first restart). */
export async function readRestartFile(target: DevTarget, service: string, instance: Instance): Promise<string> {
  return (await target.exec(service, instance, ['cat', RESTART_FILE])).stdout.trim();
}

/**
 * Signals the main process and waits for its word in RESTART_FILE (the api's supervisor writes
 * `<n> ok` once the new worker listens, `<n> failed: ...` when it did not start).
 */
export async function restartInPlace(target: DevTarget, service: string, instance: Instance, signal: NodeJS.Signals, known?: string): Promise<void> {
  const read = () => readRestartFile(target, service, instance);
  const before = known ?? (await read());
  await target.signal(service, instance, signal);
  const after = await waitFor(`${instance.name} to restart after ${signal} (${RESTART_FILE})`, async () => {
    const now = await read();
    return now && now !== before ? now : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  if (!/^\d+ ok$/.test(after)) {
    throw new StackportError(`${instance.name}: the new code did not start (${after.replace(/^\d+ /, '')})`, { details: `last log lines of ${instance.name}:\n${await target.logTail(service, instance, 15)}` });
  }
}
