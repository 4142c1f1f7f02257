/**
 * Scaling with load, measured: a bounded request loop against the app entry drives the web
 * tier's HorizontalPodAutoscaler from min to more replicas; after the load stops it scales back
 * to min. A light probe loop runs the whole time so pods being added and removed are seen by
 * requests. Every wait is on a real condition (HPA status, replica counts) with a deadline.
 * Used by tests/e2e/autoscale.test.ts (the proof) and scripts/bench/autoscale.mjs (the figures).
 */
import type { RunOptions } from '../exec/run.js';
import type { CommandResult } from '../errors.js';
import { StackportError } from '../errors.js';
import { startLoop, summarize, type LoopSummary, type RequestRecord } from '../load/request-loop.js';
import { hpaStatus } from '../operate/hpa-status.js';
import { waitFor } from '../exec/wait.js';

export interface KubectlLike {
  run(args: string[], options?: RunOptions): Promise<CommandResult>;
}

export interface ReplicaSample {
  /** ms since the load started (negative: before) */
  at: number;
  /** HPA's desired count */
  desired: number;
  /** pods of the Deployment that are ready */
  ready: number;
  /** average CPU utilisation (% of request) the HPA sees, when it has a reading */
  cpu?: number;
}

export interface AutoscaleRunOptions {
  kubectl: KubectlLike;
  namespace?: string;
  /** Deployment and HPA name */
  name?: string;
  url: string;
  /** the load: requests per second and how long (fixed: the loop stops by itself) */
  ratePerSecond?: number;
  loadMs?: number;
  /**
   * the load is raised by ratePerSecond every rampEveryMs (up to maxRatePerSecond) while the HPA
   * has not asked for more pods and reads the CPU under 1.3x its target: what a request costs
   * differs by machine and image, so the load follows the HPA's own reading instead of a guess
   */
  maxRatePerSecond?: number;
  rampEveryMs?: number;
  /** the probe that runs through scale-out and scale-in */
  probeRatePerSecond?: number;
  /** scale-down stabilization set on the HPA for the run (restored after) */
  scaleDownWindowSeconds?: number;
  /** deadline for scaling back in after the load */
  scaleInTimeoutMs?: number;
  /** path requested under url */
  path?: string;
  log?: (line: string) => void;
}

export interface AutoscaleResult {
  min: number;
  max: number;
  target: number;
  /** load start -> first moment more than min pods were ready (undefined: never) */
  scaleOutMs?: number;
  /** load start -> the HPA first asked for more than min */
  scaleOutDecisionMs?: number;
  peakReplicas: number;
  /** load end -> back to min ready pods and desired = min (undefined: not within the deadline) */
  scaleInMs?: number;
  loadMs: number;
  load: LoopSummary;
  probe: LoopSummary;
  failed: number;
  samples: ReplicaSample[];
  /** load + probe records, on the same clock as samples (ms since the load started) */
  records: RequestRecord[];
  loadRecords: RequestRecord[];
  peakCpu?: number;
  /** the load's rate over time: ms since the load started -> requests per second from then on */
  rates: { at: number; perSecond: number }[];
  /** ms (since the load started) when the ready pod count changed, and to what */
  podChanges: { at: number; ready: number }[];
  /** ms (since the load started) of failed requests, and why */
  failures: { at: number; error: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Snapshot {
  min: number;
  max: number;
  target: number;
  desired: number;
  ready: number;
  cpu?: number;
}

async function snapshot(k: KubectlLike, ns: string, name: string): Promise<Snapshot> {
  const [row] = (await hpaStatus(k, ns)).filter((r) => r.name === name);
  if (!row) throw new StackportError(`no HorizontalPodAutoscaler ${ns}/${name}`, { hint: 'deploy the demo app (make migrate): its web service asks for autoscaling' });
  const d = JSON.parse((await k.run(['-n', ns, 'get', 'deployment', name, '-o', 'json'], { timeoutMs: 20_000 })).stdout) as { status?: { readyReplicas?: number } };
  return { min: row.min, max: row.max, target: row.targetCpu ?? 0, desired: row.desired, ready: d.status?.readyReplicas ?? 0, cpu: row.currentCpu };
}

/** Until fn says yes, asking once a second. */
const until = (what: string, timeoutMs: number, fn: () => Promise<boolean>) => waitFor(what, fn, { timeoutMs, intervalMs: 1000 });

/** Sets the HPA's behaviour for a run: quick scale-down (the default waits 5 minutes), immediate scale-up. */
export function runBehavior(scaleDownWindowSeconds: number): Record<string, unknown> {
  return {
    scaleDown: { stabilizationWindowSeconds: scaleDownWindowSeconds, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }], selectPolicy: 'Max' },
  };
}

export async function runAutoscale(o: AutoscaleRunOptions): Promise<AutoscaleResult> {
  const k = o.kubectl;
  const ns = o.namespace ?? 'default';
  const name = o.name ?? 'web';
  const log = o.log ?? (() => undefined);
  const loadMs = o.loadMs ?? 90_000;
  const url = o.url.replace(/\/$/, '') + (o.path ?? '/');
  const patch = (behavior: unknown) => k.run(['-n', ns, 'patch', 'hpa', name, '--type', 'merge', '-p', JSON.stringify({ spec: { behavior } })]);

  await patch(runBehavior(o.scaleDownWindowSeconds ?? 15));
  try {
    // Start from rest: the HPA has a CPU reading and runs min pods, all ready.
    let s = await snapshot(k, ns, name);
    log(`hpa ${name}: min ${s.min}, max ${s.max}, target ${s.target}% CPU; now desired ${s.desired}, ready ${s.ready}, cpu ${s.cpu ?? '?'}%`);
    await until('the HPA to read CPU and rest at min', 240_000, async () => {
      s = await snapshot(k, ns, name);
      return s.cpu !== undefined && s.desired === s.min && s.ready === s.min;
    });
    const { min, max, target } = s;

    const samples: ReplicaSample[] = [];
    // t0: when the load starts, 2 s after the probe (samples before it have negative times)
    const t0 = Date.now() + 2000;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const started = Date.now();
        try {
          const x = await snapshot(k, ns, name);
          samples.push({ at: started - t0, desired: x.desired, ready: x.ready, cpu: x.cpu });
        } catch {
          /* a slow API server answer: the next sample counts */
        }
        await sleep(Math.max(0, 1000 - (Date.now() - started)));
      }
    })();

    const probe = startLoop({ url, ratePerSecond: o.probeRatePerSecond ?? 5, maxDurationMs: loadMs + (o.scaleInTimeoutMs ?? 240_000) + 30_000, timeoutMs: 5000 });
    const probeStart = Date.now();
    await sleep(Math.max(0, t0 - Date.now()));
    const step = o.ratePerSecond ?? 150;
    const maxRate = o.maxRatePerSecond ?? step * 2;
    log(`load: ${step} req/s for ${Math.round(loadMs / 1000)} s against ${url} (raised by ${step} req/s up to ${maxRate} while the HPA reads under 1.3x its target and has not scaled out)`);
    const loadStart = Date.now();
    const loops = [{ startedAt: 0, loop: startLoop({ url, ratePerSecond: step, maxDurationMs: loadMs, timeoutMs: 5000 }) }];
    const rates = [{ at: 0, perSecond: step }];
    const ramp = setInterval(() => {
      const now = Date.now() - loadStart;
      const last = samples[samples.length - 1];
      const rate = loops.length * step;
      if (!last || now + (o.rampEveryMs ?? 20_000) > loadMs || rate + step > maxRate) return;
      if (samples.some((x) => x.at >= 0 && x.desired > min) || (last.cpu !== undefined && last.cpu >= target * 1.3)) return;
      loops.push({ startedAt: now, loop: startLoop({ url, ratePerSecond: step, maxDurationMs: loadMs - now, timeoutMs: 5000 }) });
      rates.push({ at: now, perSecond: rate + step });
      log(`load raised to ${rate + step} req/s at ${(now / 1000).toFixed(0)} s (HPA reads ${last.cpu ?? '?'}% of request, target ${target}%, desired ${last.desired})`);
    }, o.rampEveryMs ?? 20_000);
    await loops[0]!.loop.done;
    clearInterval(ramp);
    const loadRecords = (await Promise.all(loops.map(async ({ startedAt, loop }) => (await loop.done).map((r) => ({ ...r, at: r.at + startedAt }))))).flat().sort((a, b) => a.at - b.at);
    const loadEnd = Date.now() - t0;
    const peakSoFar = Math.max(...samples.map((x) => x.ready), min);
    log(`load done after ${(loadEnd / 1000).toFixed(1)} s: ${summarize(loadRecords).failed} failed, peak ${peakSoFar} ready pods`);

    let scaleInMs: number | undefined;
    try {
      await until(`${name} to scale back to ${min}`, o.scaleInTimeoutMs ?? 240_000, async () => {
        const last = samples[samples.length - 1];
        return !!last && last.at > loadEnd && last.desired === min && last.ready === min;
      });
      // the pods removed last still drain (preStop): keep probing until they are gone
      await until(`the removed ${name} pods to finish terminating`, 120_000, async () => {
        const pods = await k.run(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/name=${name}`, '-o', 'name'], { timeoutMs: 20_000 });
        return pods.stdout.split('\n').filter(Boolean).length === min;
      });
      scaleInMs = samples.find((x, i) => x.at > loadEnd && samples.slice(i).every((y) => y.desired === min && y.ready === min))!.at - loadEnd;
    } catch (e) {
      log(e instanceof Error ? e.message : String(e));
    }
    const probeRecords = await probe.stop();
    sampling = false;
    await sampler;

    const shift = probeStart - t0;
    const records = [...loadRecords, ...probeRecords.map((r) => ({ ...r, at: r.at + shift }))].sort((a, b) => a.at - b.at);
    const out = samples.find((x) => x.at >= 0 && x.ready > min);
    const decision = samples.find((x) => x.at >= 0 && x.desired > min);
    const cpus = samples.map((x) => x.cpu).filter((c): c is number => c !== undefined);
    const loadSummary = summarize(loadRecords);
    const probeSummary = summarize(probeRecords);
    return {
      min,
      max,
      target,
      scaleOutMs: out?.at,
      scaleOutDecisionMs: decision?.at,
      peakReplicas: Math.max(min, ...samples.map((x) => x.ready)),
      scaleInMs,
      loadMs: loadEnd,
      load: loadSummary,
      probe: probeSummary,
      failed: loadSummary.failed + probeSummary.failed,
      samples,
      records,
      loadRecords,
      peakCpu: cpus.length ? Math.max(...cpus) : undefined,
      rates,
      podChanges: samples.filter((x, i) => i > 0 && x.ready !== samples[i - 1]!.ready).map((x) => ({ at: x.at, ready: x.ready })),
      failures: records.filter((q) => !q.ok).map((q) => ({ at: q.at, error: q.error ?? 'failed' })),
    };
  } finally {
    await patch(null).catch(() => undefined);
  }
}

const secs = (ms?: number) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

export function formatAutoscale(r: AutoscaleResult): string {
  return [
    `HPA: ${r.min}..${r.max} pods at ${r.target}% CPU`,
    `load: ${r.load.total} requests in ${secs(r.loadMs)} at ${r.rates.map((x) => `${x.perSecond} req/s from ${secs(x.at)}`).join(', ')} (p50 ${r.load.p50} ms, p99 ${r.load.p99} ms), peak CPU ${r.peakCpu ?? '?'}% of request`,
    `time to scale out (load start -> a new pod ready): ${secs(r.scaleOutMs)} (HPA decision ${secs(r.scaleOutDecisionMs)})`,
    `peak replicas: ${r.peakReplicas}`,
    `time to scale in (load end -> back to ${r.min}): ${secs(r.scaleInMs)}`,
    `failed requests: ${r.failed} of ${r.load.total + r.probe.total} (load ${r.load.failed} ${JSON.stringify(r.load.errors)}, probe ${r.probe.failed} ${JSON.stringify(r.probe.errors)})`,
    `pod changes: ${r.podChanges.map((c) => `${secs(c.at)} -> ${c.ready}`).join(', ') || 'none'}`,
    ...(r.failures.length ? [`failures by second: ${bySecond(r.failures.map((f) => f.at))}`] : []),
  ].join('\n');
}

/** "8 s ×12, 59 s ×3": failures grouped by the second they started in. */
function bySecond(ats: number[]): string {
  const counts = new Map<number, number>();
  for (const a of ats) counts.set(Math.floor(a / 1000), (counts.get(Math.floor(a / 1000)) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([sec, n]) => `${sec} s x${n}`).join(', ');
}

export interface BenchAutoscaleOptions {
  root: string;
  ratePerSecond: number;
  /** the ramp's ceiling (see AutoscaleRunOptions.maxRatePerSecond) */
  maxRatePerSecond?: number;
  loadMs: number;
  scaleDownWindowSeconds: number;
  /** where the picture goes */
  svg: string;
  provider?: string;
  /** load target (default: the provider's entry, http://127.0.0.1:8090) */
  url?: string;
}

/** `make bench-autoscale`: one run on the running cluster, figures on stdout, the SVG written. */
export async function benchAutoscale(o: BenchAutoscaleOptions): Promise<AutoscaleResult> {
  const { writeFile } = await import('node:fs/promises');
  const { detect } = await import('../cluster/providers/detect.js');
  const { kubectlFor } = await import('../migrate/kube.js');
  const { deployMetricsServer, metricsAvailable } = await import('../cluster/addons/metrics-server.js');
  const { renderAutoscale } = await import('./autoscale-svg.js');
  const provider = await detect({ root: o.root }, o.provider ?? 'kubeadm');
  const kubectl = await kubectlFor(provider);
  if (!(await metricsAvailable(kubectl))) await deployMetricsServer(kubectl, (archive) => provider.loadArchives([archive]), { hasImage: (i) => provider.hasImage(i) });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const r = await runAutoscale({ kubectl, url: o.url ?? provider.entry(), ratePerSecond: o.ratePerSecond, maxRatePerSecond: o.maxRatePerSecond, loadMs: o.loadMs, scaleDownWindowSeconds: o.scaleDownWindowSeconds, log });
  process.stdout.write(`${formatAutoscale(r)}\n`);
  await writeFile(o.svg, renderAutoscale(r, `Scaling with load: web, ${o.ratePerSecond} req/s for ${Math.round(o.loadMs / 1000)} s (kubeadm, 2 cores)`));
  await writeFile(o.svg.replace(/\.svg$/, '.json'), `${JSON.stringify({ ...r, records: undefined, loadRecords: undefined }, null, 2)}\n`);
  process.stdout.write(`picture: ${o.svg}\n`);
  return r;
}
