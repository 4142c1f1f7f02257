/**
 * A bounded request loop against one URL on this machine: a fixed rate for at most a fixed
 * duration (and so a fixed count), stopping by itself or when told. Every request is recorded
 * (start offset, latency, ok or failed and why), so a run can be counted and drawn.
 *
 * Each request opens its own connection (no keep-alive): what is measured is whether the
 * service accepts new work at every moment, not whether one pooled connection survives.
 */
import http from 'node:http';

export interface RequestRecord {
  /** ms since the loop started */
  at: number;
  ms: number;
  ok: boolean;
  status?: number;
  error?: string;
  /** What the response body says (e.g. the page version), when a probe extracts it. */
  tag?: string;
}

export interface LoopOptions {
  url: string;
  ratePerSecond: number;
  maxDurationMs: number;
  timeoutMs?: number;
  /** Extracts a label from a 200 body (e.g. which page version answered). */
  tagOf?: (body: string) => string | undefined;
  /** Body must contain this for the request to count as ok. */
  expect?: string;
}

export interface RunningLoop {
  readonly records: RequestRecord[];
  /** Milliseconds since the loop started. */
  now(): number;
  /** Stop sending; resolves when in-flight requests have ended. */
  stop(): Promise<RequestRecord[]>;
  /** Resolves when the loop stopped by itself (duration reached) or was stopped. */
  done: Promise<RequestRecord[]>;
}

const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

export function startLoop(o: LoopOptions): RunningLoop {
  if (!LOOPBACK.test(o.url)) throw new Error(`request loops only target this machine (loopback), not ${o.url}`);
  if (!(o.ratePerSecond > 0 && o.ratePerSecond <= 200)) throw new Error('rate must be between 1 and 200 requests/s');
  const records: RequestRecord[] = [];
  const started = Date.now();
  const interval = 1000 / o.ratePerSecond;
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  let sent = 0;
  let resolveDone!: (r: RequestRecord[]) => void;
  const done = new Promise<RequestRecord[]>((r) => (resolveDone = r));

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const at = Date.now() - started;
      const rec: RequestRecord = { at, ms: 0, ok: false };
      records.push(rec);
      const req = http.get(o.url, { agent: false, timeout: o.timeoutMs ?? 3000, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          rec.ms = Date.now() - started - at;
          rec.status = res.statusCode;
          rec.ok = res.statusCode === 200 && (o.expect === undefined || body.includes(o.expect));
          if (!rec.ok) rec.error = `HTTP ${res.statusCode}`;
          if (res.statusCode === 200) rec.tag = o.tagOf?.(body);
          resolve();
        });
        res.on('error', (e) => {
          rec.ms = Date.now() - started - at;
          rec.error = e.message;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => {
        rec.ms = Date.now() - started - at;
        rec.error = e.code ?? e.message;
        resolve();
      });
    });

  const finish = async () => {
    await Promise.all(inflight);
    records.sort((a, b) => a.at - b.at);
    resolveDone(records);
  };

  const tick = () => {
    if (stopped) return;
    const elapsed = Date.now() - started;
    if (elapsed >= o.maxDurationMs) {
      stopped = true;
      void finish();
      return;
    }
    // Catch up to the schedule (timers drift), never more than a few at once.
    const due = Math.min(Math.floor(elapsed / interval) + 1 - sent, 5);
    for (let i = 0; i < due; i++) {
      sent++;
      const p = one().then(() => {
        inflight.delete(p);
      });
      inflight.add(p);
    }
    setTimeout(tick, Math.max(1, interval / 2));
  };
  tick();

  return {
    records,
    now: () => Date.now() - started,
    stop: async () => {
      if (!stopped) {
        stopped = true;
        await finish();
      }
      return done;
    },
    done,
  };
}

export interface LoopSummary {
  total: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  tags: Record<string, number>;
  p50: number;
  p99: number;
}

export function summarize(records: RequestRecord[]): LoopSummary {
  const lat = records.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : 0);
  const errors: Record<string, number> = {};
  const tags: Record<string, number> = {};
  for (const r of records) {
    if (!r.ok) errors[r.error ?? 'failed'] = (errors[r.error ?? 'failed'] ?? 0) + 1;
    if (r.tag) tags[r.tag] = (tags[r.tag] ?? 0) + 1;
  }
  const ok = records.filter((r) => r.ok).length;
  return { total: records.length, ok, failed: records.length - ok, errors, tags, p50: pct(0.5), p99: pct(0.99) };
}

/** The page version the demo page shows (`<span id="page-version">N</span>`). */
export const pageVersion = (body: string) => /id="page-version">([^<]*)</.exec(body)?.[1];
