/**
 * Runs declared smoke checks (src/smoke/declarations.ts) against one target. With none
 * declared, the default suite: every service ready, and every published port answers (HTTP
 * where it speaks HTTP, else a TCP connection). The results have the demo suite's shape.
 */
import net from 'node:net';
import type { PublishedPort } from '../stack/resolved-config.js';
import type { SmokeCheck } from './declarations.js';
import { request } from './http.js';
import { runChecks, messageChecks, type CheckResult } from './smoke.js';
import type { Address, CheckTarget } from './target.js';

export interface SuiteOptions {
  /** The ports the Compose file publishes (the default suite checks each). */
  published: PublishedPort[];
}

/**
 * Connects, then waits a moment: a listener that closes at once without a word is not
 * answering (a port-forward accepts locally, then closes when the pod's port refuses it).
 */
export function tcpConnect(a: Address, timeoutMs = 5000, holdMs = 300): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: a.host, port: a.port });
    let connectedMs = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: Error) => {
      clearTimeout(timer);
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      if (err) reject(err);
      else resolve(connectedMs);
    };
    s.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    s.once('connect', () => {
      connectedMs = Date.now() - started;
      s.setTimeout(0);
      timer = setTimeout(() => done(), holdMs);
    });
    s.once('data', () => done());
    s.once('close', () => done(connectedMs ? new Error(`connection closed at once (via ${a.via})`) : new Error('connection closed')));
    s.once('error', (e) => done(e));
  });
}

const url = (a: Address, p: string) => `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}${p}`;

async function one(t: CheckTarget, c: SmokeCheck): Promise<string> {
  if (c.kind === 'http') {
    const a = await t.address(c.service, c.port);
    const r = await request(url(a, c.path), { method: c.method });
    if (r.status !== c.status) throw new Error(`${c.method} ${c.path} answered ${r.status}, not ${c.status} (via ${a.via}): ${JSON.stringify(r.body.slice(0, 100))}`);
    if (c.contains !== undefined && !r.body.includes(c.contains)) throw new Error(`${c.method} ${c.path} does not contain ${JSON.stringify(c.contains)} (via ${a.via}; got ${JSON.stringify(r.body.slice(0, 100))})`);
    return `${r.status} in ${r.ms} ms via ${a.via}`;
  }
  if (c.kind === 'tcp') {
    const a = await t.address(c.service, c.port);
    const ms = await tcpConnect(a);
    return `connected in ${ms} ms via ${a.via}`;
  }
  if (c.kind === 'exec') {
    const r = await t.exec(c.service, c.command);
    const out = r.output.trim();
    if (r.exitCode !== c.exitCode) throw new Error(`exited with ${r.exitCode}, not ${c.exitCode}: ${out.split('\n').slice(-3).join(' | ').slice(0, 200)}`);
    if (c.contains !== undefined && !r.output.includes(c.contains)) throw new Error(`output does not contain ${JSON.stringify(c.contains)}: ${JSON.stringify(out.slice(0, 120))}`);
    return `exit ${r.exitCode}${out ? `: ${out.split('\n')[0]!.slice(0, 60)}` : ''}`;
  }
  throw new Error(`unknown check ${(c as SmokeCheck).kind}`);
}

/** The default suite's checks, as declarations: each published TCP port, once. */
export function defaultChecks(published: PublishedPort[]): SmokeCheck[] {
  const seen = new Set<string>();
  const out: SmokeCheck[] = [];
  for (const p of published) {
    const key = `${p.service}:${p.target}`;
    if (p.protocol !== 'tcp' || seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: 'tcp', service: p.service, port: p.target, name: `published ${p.service}:${p.target} answers` });
  }
  return out;
}

/** A published port with no declaration: HTTP if it speaks it (any status below 500), else TCP. */
async function answers(t: CheckTarget, c: SmokeCheck & { kind: 'tcp' }): Promise<string> {
  const a = await t.address(c.service, c.port);
  try {
    const r = await request(url(a, '/'));
    if (r.status >= 500) throw Object.assign(new Error(`GET / answered ${r.status} (via ${a.via})`), { http: true });
    return `HTTP ${r.status} in ${r.ms} ms via ${a.via}`;
  } catch (e) {
    if ((e as { http?: boolean }).http) throw e;
    const ms = await tcpConnect(a);
    return `TCP open in ${ms} ms via ${a.via} (not HTTP)`;
  }
}

export async function runSuite(t: CheckTarget, declared: SmokeCheck[], options: SuiteOptions, onResult: (r: CheckResult) => void = () => undefined): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const record = async (name: string, fn: () => Promise<string>) => {
    const started = Date.now();
    try {
      const detail = await fn();
      results.push({ name, ok: true, ms: Date.now() - started, detail });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      results.push({ name, ok: false, ms: Date.now() - started, detail: e.cause?.code ? `${e.message} (${e.cause.code})` : e.message });
    }
    onResult(results[results.length - 1]!);
  };
  try {
    await record('every service ready', async () => {
      const r = await t.readiness();
      const bad = r.filter((x) => !x.ready);
      if (bad.length) throw new Error(`not ready: ${bad.map((x) => `${x.service} (${x.state})`).join(', ')}`);
      return r.map((x) => `${x.service} ${x.state}`).join(', ');
    });
    const checks = declared.length ? declared : defaultChecks(options.published);
    for (const c of checks) {
      if (c.kind === 'messages') {
        const a = await t.address(c.service, c.port).catch((e: Error) => e);
        if (a instanceof Error) {
          await record(c.name, async () => Promise.reject(a));
          continue;
        }
        for (const r of await runChecks({ name: t.name, baseUrl: url(a, ''), markerFile: t.markerFile }, messageChecks)) {
          results.push(r);
          onResult(r);
        }
      } else if (!declared.length && c.kind === 'tcp') {
        await record(c.name, () => answers(t, c));
      } else {
        await record(c.name, () => one(t, c));
      }
    }
  } finally {
    await t.close();
  }
  return results;
}
