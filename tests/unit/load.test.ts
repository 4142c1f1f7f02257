import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pageVersion, startLoop, summarize, type RequestRecord } from '../../src/load/request-loop.js';
import { renderTimeline } from '../../src/load/timeline-svg.js';

describe('bounded request loop', () => {
  test('refuses targets off this machine and silly rates', () => {
    expect(() => startLoop({ url: 'http://10.0.0.1/', ratePerSecond: 10, maxDurationMs: 100 })).toThrow(/only target this machine/);
    expect(() => startLoop({ url: 'http://127.0.0.1:1/', ratePerSecond: 0, maxDurationMs: 100 })).toThrow(/rate/);
  });

  test('keeps its rate, stops by itself, and records ok, wrong content and refused requests', async () => {
    let n = 0;
    const server = http.createServer((_req, res) => {
      n++;
      if (n % 5 === 0) res.writeHead(503).end('busy');
      else res.end(`<p>Hello Docker! <span id="page-version">${n < 10 ? 1 : 2}</span></p>`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const loop = startLoop({ url: `http://127.0.0.1:${port}/`, ratePerSecond: 20, maxDurationMs: 1000, tagOf: pageVersion, expect: 'Hello Docker!' });
    const records = await loop.done;
    server.close();
    expect(records.length).toBeGreaterThanOrEqual(18);
    expect(records.length).toBeLessThanOrEqual(21);
    const s = summarize(records);
    expect(s.failed).toBe(records.filter((r) => r.status === 503).length);
    expect(s.errors['HTTP 503']).toBe(s.failed);
    expect(Object.keys(s.tags).sort()).toEqual(['1', '2']);
    // A port nobody listens on: every request fails, none hangs.
    const refused = await startLoop({ url: `http://127.0.0.1:${port}/`, ratePerSecond: 10, maxDurationMs: 300 }).done;
    expect(summarize(refused).ok).toBe(0);
    expect(Object.keys(summarize(refused).errors)).toEqual(['ECONNREFUSED']);
  });
});

describe('timeline SVG', () => {
  const rec = (at: number, ok: boolean, tag?: string): RequestRecord => ({ at, ms: 5, ok, tag, error: ok ? undefined : 'ECONNREFUSED' });
  test('one mark per request, failed ones red, events and counts per lane', () => {
    const svg = renderTimeline(
      [
        { title: 'Compose', records: [rec(0, true, '1'), rec(50, false), rec(100, true, '2')], events: [{ at: 40, label: 'update starts' }] },
        { title: 'Kubernetes', records: [rec(0, true, '1'), rec(100, true, '2')], events: [] },
      ],
      { title: 'update <& compare>' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect class="ok"/g)).toHaveLength(4);
    expect(svg.match(/<rect class="failed"[^>]*fill="#e63946"/g)).toHaveLength(1);
    expect(svg).toContain('data-title="Compose" data-failed="1" data-total="3"');
    expect(svg).toContain('data-title="Kubernetes" data-failed="0" data-total="2"');
    expect(svg).toContain('update &lt;&amp; compare&gt;');
    expect(svg.match(/class="event"/g)).toHaveLength(1);
  });
});
