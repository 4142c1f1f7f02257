/**
 * The smoke suite: one set of checks, parameterised by target (the Compose stack or the
 * cluster), so the same checks prove both.
 *
 * - page: the front page says Hello Docker!
 * - api health: database and broker ok
 * - message round trip: a message posted is stored in PostgreSQL, published to RabbitMQ,
 *   consumed, and comes back delivered
 * - data kept: the messages earlier smoke runs left (recorded in a marker file) are still
 *   there, with the same text: data survives down/up, and later a migration
 *
 * The record is kept per target (each has its own database), and each target's part belongs to
 * one data set: the database names itself (a row the API makes once, which a dump and restore
 * carries along). When the database answering is another one (its volume was removed, e.g. by
 * `make clean` from another checkout), that target's record starts again and says so, rather
 * than calling a new database's missing messages lost. A data copy (migrate) copies the source
 * target's record to the destination's, since the messages went with the data.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { waitFor } from '../exec/wait.js';
import { json, request } from './http.js';

export interface SmokeTarget {
  /** compose or k8s: shown in the output, and part of the marker file's name. */
  name: string;
  baseUrl: string;
  /** Where earlier runs' messages are recorded (one file for a project, a part per target). */
  markerFile?: string;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

interface Message {
  id: number;
  text: string;
  stored: boolean;
  delivered: boolean;
}

interface Health {
  status: string;
  database: { ok: boolean; dataset?: string; error?: string };
  broker: { ok: boolean; error?: string };
}

interface Posted {
  id: number;
  text: string;
  /** Where it was posted (a copied record keeps the source's name). */
  target: string;
  at: string;
}

interface TargetRecord {
  /** The data set the messages are in (the API's health names it). */
  dataset?: string;
  messages: Posted[];
}

interface Marker {
  targets: Record<string, TargetRecord>;
}

/** What one run of the suite learns as it goes. */
interface RunState {
  startedAt: string;
  dataset?: string;
  /** Set when the record was for another data set and was started again. */
  restarted?: string;
}

export type Check = { name: string; run: (t: SmokeTarget, run: RunState) => Promise<string> };

export const checks: Check[] = [
  {
    name: 'page says Hello Docker!',
    run: async (t) => {
      const r = await request(`${t.baseUrl}/`);
      if (r.status !== 200) throw new Error(`GET / answered ${r.status}`);
      if (!r.body.includes('Hello Docker!')) throw new Error(`GET / does not say Hello Docker! (got ${JSON.stringify(r.body.slice(0, 80))})`);
      return `200 in ${r.ms} ms`;
    },
  },
  {
    name: 'api health: database and broker ok',
    run: async (t, state) => {
      const r = await request(`${t.baseUrl}/api/health`);
      const h = json<Health>(r, 'GET /api/health');
      if (r.status !== 200 || h.status !== 'ok') {
        throw new Error(`GET /api/health answered ${r.status}: database ${h.database?.ok ? 'ok' : h.database?.error}, broker ${h.broker?.ok ? 'ok' : h.broker?.error}`);
      }
      state.dataset = h.database.dataset;
      const marker = readMarker(t.markerFile);
      const mine = marker.targets[t.name];
      if (t.markerFile && state.dataset && mine && mine.dataset !== state.dataset && mine.messages.length) {
        state.restarted = mine.dataset ?? '(unnamed)';
        marker.targets[t.name] = { dataset: state.dataset, messages: [] };
        writeMarker(t.markerFile, marker);
      }
      return `database ok, broker ok`;
    },
  },
  {
    name: 'message travels through PostgreSQL and RabbitMQ',
    run: async (t, state) => {
      const text = `smoke ${t.name} ${new Date().toISOString()}`;
      const posted = await request(`${t.baseUrl}/api/messages`, { method: 'POST', body: { text } });
      if (posted.status !== 201) throw new Error(`POST /api/messages answered ${posted.status}: ${posted.body.slice(0, 120)}`);
      const msg = json<Message>(posted, 'POST /api/messages');
      return waitFor(`message ${msg.id} delivered`, async (ctl) => {
        const r = await request(`${t.baseUrl}/api/messages/${msg.id}`);
        const got = json<Message>(r, `GET /api/messages/${msg.id}`);
        if (r.status === 200 && got.delivered) {
          if (got.text !== text) ctl.abort(new Error(`message ${msg.id} came back as ${JSON.stringify(got.text)}`));
          recordMarker(t, state, msg.id, text);
          return `message ${msg.id} stored and delivered`;
        }
        ctl.seen(`GET /api/messages/${msg.id} answered ${r.status}, delivered ${String(got.delivered)}`);
        return undefined;
      }, { timeoutMs: 15_000, intervalMs: 100, message: `message ${msg.id} was stored but not delivered within 15 s` });
    },
  },
  {
    name: 'earlier messages are still there',
    run: async (t, state) => {
      if (state.restarted) {
        const was = state.restarted === '(unnamed)' ? 'made before data sets were named' : `for data set ${state.restarted.slice(0, 8)}, whose volume is gone`;
        return `another database answers (data set ${state.dataset?.slice(0, 8)}; the record was ${was}): the record starts again`;
      }
      const earlier = (readMarker(t.markerFile).targets[t.name]?.messages ?? []).filter((m) => m.at < state.startedAt);
      if (earlier.length === 0) return 'first run: nothing to compare yet';
      const sample = [earlier[0]!, earlier[earlier.length - 1]!];
      for (const m of sample) {
        const r = await request(`${t.baseUrl}/api/messages/${m.id}`);
        if (r.status !== 200) throw new Error(`message ${m.id} (posted on ${m.target} at ${m.at}) is gone: GET answered ${r.status}`);
        const got = json<Message>(r, `GET /api/messages/${m.id}`);
        if (got.text !== m.text) throw new Error(`message ${m.id} changed: ${JSON.stringify(got.text)} != ${JSON.stringify(m.text)}`);
      }
      return `${earlier.length} earlier message(s) kept (checked ${sample[0]!.id} and ${sample[1]!.id})`;
    },
  },
];

function readMarker(file: string | undefined): Marker {
  if (!file || !existsSync(file)) return { targets: {} };
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<Marker> & { messages?: Posted[] };
    if (raw.targets) return { targets: raw.targets };
    // a record from before targets had parts: messages by where they were posted, data set unknown
    const targets: Record<string, TargetRecord> = {};
    for (const m of raw.messages ?? []) (targets[m.target] ??= { messages: [] }).messages.push(m);
    return { targets };
  } catch {
    return { targets: {} };
  }
}

function recordMarker(t: SmokeTarget, state: RunState, id: number, text: string): void {
  if (!t.markerFile) return;
  const marker = readMarker(t.markerFile);
  const mine = (marker.targets[t.name] ??= { messages: [] });
  if (state.dataset) mine.dataset = state.dataset;
  mine.messages.push({ id, text, target: t.name, at: new Date().toISOString() });
  mine.messages = mine.messages.slice(-50);
  writeMarker(t.markerFile, marker);
}

function writeMarker(file: string, marker: Marker): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(marker, null, 2)}\n`);
}

/** The demo API's part that no declaration can say: health names the data set, a message round trip, data kept. */
export const messageChecks: Check[] = [{ ...checks[1]!, name: 'messages: the api names its data set' }, ...checks.slice(2)];

/** The demo suite on a base URL (page, health, round trip, data kept). */
export function runSmoke(target: SmokeTarget, onResult: (r: CheckResult) => void = () => undefined): Promise<CheckResult[]> {
  return runChecks(target, checks, onResult);
}

export async function runChecks(target: SmokeTarget, list: Check[], onResult: (r: CheckResult) => void = () => undefined): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const state: RunState = { startedAt: new Date().toISOString() };
  for (const c of list) {
    const started = Date.now();
    try {
      const detail = await c.run(target, state);
      results.push({ name: c.name, ok: true, ms: Date.now() - started, detail });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const detail = e.cause?.code ? `${e.message} (${e.cause.code})` : e.message;
      results.push({ name: c.name, ok: false, ms: Date.now() - started, detail });
    }
    onResult(results[results.length - 1]!);
  }
  return results;
}

export function formatResults(target: { name: string; baseUrl?: string }, results: CheckResult[]): string {
  const lines = results.map((r) => `${r.ok ? '✓' : '✗'} [${target.name}] ${r.name}: ${r.detail} (${r.ms} ms)`);
  const failed = results.filter((r) => !r.ok).length;
  lines.push(`smoke ${target.name}${target.baseUrl ? ` (${target.baseUrl})` : ''}: ${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}

export function assertSmokePassed(target: { name: string }, results: CheckResult[]): void {
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    throw new StackportError(`smoke test failed on ${target.name}: ${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')}`, {
      hint: target.name === 'compose' ? 'see `make status` and `make logs`' : 'see `npx zx scripts/k8s.mjs status`',
    });
  }
}

/**
 * `to`'s database was just replaced by a copy of `from`'s: what `to` recorded is gone by design,
 * and what `from` recorded is now there too (same data set).
 */
export function copyRecord(markerFile: string, from: string, to: string): void {
  const marker = readMarker(markerFile);
  const source = marker.targets[from] ?? { messages: [] };
  marker.targets[to] = { dataset: source.dataset, messages: source.messages.map((m) => ({ ...m })) };
  writeMarker(markerFile, marker);
}
