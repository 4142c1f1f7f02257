/**
 * Draws request timelines as one SVG: a lane per run, each request a mark at its start time
 * (colour: which version answered, red when it failed), latency as the mark's height, and
 * rollout events as labelled dashed lines. Pure: records in, SVG text out.
 */
import type { RequestRecord } from './request-loop.js';
import { summarize } from './request-loop.js';

export interface TimelineEvent {
  at: number;
  label: string;
}

export interface Lane {
  title: string;
  records: RequestRecord[];
  events: TimelineEvent[];
}

const PALETTE = ['#457b9d', '#2a9d8f', '#8d6a9f', '#e9c46a'];
const FAIL = '#e63946';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderTimeline(lanes: Lane[], options: { title: string; width?: number } = { title: '' }): string {
  const width = options.width ?? 960;
  const left = 20;
  const right = 20;
  const laneH = 150;
  const top = 50;
  const plotW = width - left - right;
  const duration = Math.max(1000, ...lanes.flatMap((l) => [...l.records.map((r) => r.at + r.ms), ...l.events.map((e) => e.at)]));
  const x = (ms: number) => left + (ms / duration) * plotW;
  const tags = [...new Set(lanes.flatMap((l) => l.records.map((r) => r.tag).filter((t): t is string => Boolean(t))))].sort();
  const colour = (r: RequestRecord) => (!r.ok ? FAIL : PALETTE[Math.max(0, tags.indexOf(r.tag ?? '')) % PALETTE.length]!);
  const maxLat = Math.max(50, ...lanes.flatMap((l) => l.records.filter((r) => r.ok).map((r) => r.ms)));
  const height = top + lanes.length * laneH + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(options.title)}</text>`);
  // legend
  let lx = left;
  const legend = [...tags.map((t, i) => ({ label: `ok, version ${t}`, fill: PALETTE[i % PALETTE.length]! })), { label: 'failed', fill: FAIL }];
  for (const item of legend) {
    out.push(`<rect x="${lx}" y="32" width="10" height="10" fill="${item.fill}"/><text x="${lx + 14}" y="41">${esc(item.label)}</text>`);
    lx += 24 + item.label.length * 7;
  }
  lanes.forEach((lane, i) => {
    const y0 = top + i * laneH;
    const base = y0 + laneH - 45;
    const s = summarize(lane.records);
    out.push(`<g class="lane" data-title="${esc(lane.title)}" data-failed="${s.failed}" data-total="${s.total}">`);
    out.push(`<text x="${left}" y="${y0 + 16}" font-weight="bold">${esc(lane.title)}</text>`);
    out.push(`<text x="${width - right}" y="${y0 + 16}" text-anchor="end">${s.total} requests, ${s.failed} failed, p50 ${s.p50} ms, p99 ${s.p99} ms</text>`);
    out.push(`<line x1="${left}" y1="${base}" x2="${width - right}" y2="${base}" stroke="#999"/>`);
    for (const e of lane.events) {
      out.push(`<line class="event" x1="${x(e.at).toFixed(1)}" y1="${y0 + 24}" x2="${x(e.at).toFixed(1)}" y2="${base + 4}" stroke="#555" stroke-dasharray="4 3"/>`);
      out.push(`<text x="${(x(e.at) + 3).toFixed(1)}" y="${base + 16}" font-size="10" fill="#333">${esc(e.label)}</text>`);
    }
    for (const r of lane.records) {
      const h = r.ok ? Math.max(2, (r.ms / maxLat) * (laneH - 80)) : laneH - 80;
      out.push(`<rect class="${r.ok ? 'ok' : 'failed'}" x="${x(r.at).toFixed(1)}" y="${(base - h).toFixed(1)}" width="1.6" height="${h.toFixed(1)}" fill="${colour(r)}"><title>${(r.at / 1000).toFixed(2)} s: ${r.ok ? `${r.ms} ms${r.tag ? `, version ${esc(r.tag)}` : ''}` : esc(r.error ?? 'failed')}</title></rect>`);
    }
    out.push('</g>');
  });
  const axisY = top + lanes.length * laneH + 5;
  for (let t = 0; t <= duration; t += duration > 60_000 ? 10_000 : 5_000) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 12}" text-anchor="middle" fill="#555">${t / 1000} s</text>`);
  }
  out.push(`<text x="${width - right}" y="${axisY + 28}" text-anchor="end" fill="#555">mark height: latency (max ${maxLat} ms); red: failed request</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
