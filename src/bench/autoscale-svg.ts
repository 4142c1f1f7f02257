/**
 * One picture of an autoscale run: ready pods and the HPA's desired count (steps) over time on
 * top, request latency below (a dot per request, red when it failed), the load window shaded.
 * Pure: result in, SVG text out.
 */
import type { AutoscaleResult } from './autoscale-bench.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderAutoscale(r: AutoscaleResult, title = 'Scaling with load'): string {
  const W = 960;
  const left = 60;
  const right = 20;
  const plotW = W - left - right;
  const top1 = 56;
  const h1 = 170;
  const top2 = top1 + h1 + 50;
  const h2 = 170;
  const H = top2 + h2 + 60;
  const t0 = Math.min(0, ...r.samples.map((s) => s.at), ...r.records.map((x) => x.at));
  const t1 = Math.max(1, ...r.samples.map((s) => s.at), ...r.records.map((x) => x.at + x.ms));
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * plotW;
  const yMax = Math.max(r.max, 1);
  const y1 = (n: number) => top1 + h1 - (n / yMax) * h1;
  const okLat = r.records.filter((q) => q.ok).map((q) => q.ms).sort((a, b) => a - b);
  const latCap = Math.max(50, okLat[Math.floor(okLat.length * 0.995)] ?? 50);
  const y2 = (ms: number) => top2 + h2 - (Math.min(ms, latCap) / latCap) * h2;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`);
  const secs = (ms?: number) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(0)} s`);
  out.push(
    `<text x="${left}" y="40" fill="#444">${esc(`HPA ${r.min}..${r.max} pods at ${r.target}% CPU · scale out ${secs(r.scaleOutMs)} · peak ${r.peakReplicas} pods · scale in ${secs(r.scaleInMs)} after the load · ${r.failed} failed of ${r.records.length} requests`)}</text>`,
  );
  // load window
  out.push(`<rect x="${x(0)}" y="${top1}" width="${x(r.loadMs) - x(0)}" height="${top2 + h2 - top1}" fill="#f4a261" opacity="0.12"/>`);
  out.push(`<text x="${x(0) + 4}" y="${top1 + 14}" fill="#b5651d">load ${Math.round(r.load.total / (r.loadMs / 1000))} req/s</text>`);
  // axes
  for (const [top, h] of [[top1, h1], [top2, h2]] as const) {
    out.push(`<line x1="${left}" y1="${top + h}" x2="${W - right}" y2="${top + h}" stroke="#999"/>`);
    out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + h}" stroke="#999"/>`);
  }
  for (let n = 0; n <= yMax; n++) {
    out.push(`<text x="${left - 8}" y="${y1(n) + 4}" text-anchor="end" fill="#666">${n}</text>`);
    out.push(`<line x1="${left}" y1="${y1(n)}" x2="${W - right}" y2="${y1(n)}" stroke="#eee"/>`);
  }
  out.push(`<text x="14" y="${top1 + h1 / 2}" transform="rotate(-90 14 ${top1 + h1 / 2})" text-anchor="middle" fill="#444">pods</text>`);
  for (const f of [0, 0.5, 1]) {
    const ms = Math.round(latCap * f);
    out.push(`<text x="${left - 8}" y="${y2(ms) + 4}" text-anchor="end" fill="#666">${ms}</text>`);
  }
  out.push(`<text x="14" y="${top2 + h2 / 2}" transform="rotate(-90 14 ${top2 + h2 / 2})" text-anchor="middle" fill="#444">latency (ms)</text>`);
  const step = Math.max(10_000, Math.ceil((t1 - t0) / 12 / 10_000) * 10_000);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    out.push(`<text x="${x(t)}" y="${top2 + h2 + 16}" text-anchor="middle" fill="#666">${Math.round(t / 1000)} s</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${top2 + h2 + 36}" text-anchor="middle" fill="#444">time since the load started</text>`);
  // replica steps
  const steps = (key: 'ready' | 'desired') => {
    let d = '';
    r.samples.forEach((s, i) => {
      d += i === 0 ? `M${x(s.at).toFixed(1)},${y1(s[key]).toFixed(1)}` : `H${x(s.at).toFixed(1)}V${y1(s[key]).toFixed(1)}`;
    });
    return d;
  };
  if (r.samples.length) {
    out.push(`<path d="${steps('desired')}" fill="none" stroke="#8d6a9f" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    out.push(`<path d="${steps('ready')}" fill="none" stroke="#2a9d8f" stroke-width="2.5"/>`);
  }
  out.push(`<line x1="${W - 230}" y1="${top1 + 10}" x2="${W - 210}" y2="${top1 + 10}" stroke="#2a9d8f" stroke-width="2.5"/><text x="${W - 205}" y="${top1 + 14}">ready pods</text>`);
  out.push(`<line x1="${W - 130}" y1="${top1 + 10}" x2="${W - 110}" y2="${top1 + 10}" stroke="#8d6a9f" stroke-dasharray="5 3"/><text x="${W - 105}" y="${top1 + 14}">HPA desired</text>`);
  // latency dots (thinned to at most ~4000 marks)
  const every = Math.max(1, Math.ceil(r.records.length / 4000));
  r.records.forEach((q, i) => {
    if (!q.ok || i % every === 0) {
      out.push(q.ok ? `<circle cx="${x(q.at).toFixed(1)}" cy="${y2(q.ms).toFixed(1)}" r="1.3" fill="#457b9d" opacity="0.6"/>` : `<circle cx="${x(q.at).toFixed(1)}" cy="${y2(latCap).toFixed(1)}" r="3" fill="#e63946"/>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
