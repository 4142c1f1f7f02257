import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { probesFor } from '../../src/k8s/probes.js';
import { waitContainer, waitScript } from '../../src/k8s/wait.js';
import type { Healthcheck } from '../../src/model/app.js';

const pos = { file: 'compose.yaml', line: 1, col: 1 };
const hc = (over: Partial<Healthcheck>): Healthcheck => ({ kind: 'exec', command: ['pg_isready'], intervalSeconds: 10, timeoutSeconds: 5, retries: 3, pos, ...over });

describe('healthcheck -> probes', () => {
  test('readiness AND liveness from one healthcheck (kompose only makes liveness)', () => {
    const p = probesFor(hc({}));
    expect(p.readinessProbe).toEqual({ exec: { command: ['pg_isready'] }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, successThreshold: 1 });
    expect(p.livenessProbe).toEqual(p.readinessProbe);
    expect(p.startupProbe).toBeUndefined();
  });

  test('CMD-SHELL and string forms run through /bin/sh -c', () => {
    expect(probesFor(hc({ kind: 'shell', command: ['curl -f http://localhost || exit 1'] })).readinessProbe.exec).toEqual({ command: ['/bin/sh', '-c', 'curl -f http://localhost || exit 1'] });
  });

  test('start_period -> a startupProbe that allows that long before liveness counts', () => {
    const p = probesFor(hc({ startPeriodSeconds: 40, intervalSeconds: 90 }));
    expect(p.startupProbe).toEqual({ exec: { command: ['pg_isready'] }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 8 + 3, successThreshold: 1 });
    expect(probesFor(hc({ startPeriodSeconds: 30, startIntervalSeconds: 2 })).startupProbe).toMatchObject({ periodSeconds: 2, failureThreshold: 15 + 3 });
  });

  test('sub-second durations round up to the 1 s Kubernetes minimum', () => {
    expect(probesFor(hc({ intervalSeconds: 0.5, timeoutSeconds: 0.25 })).readinessProbe).toMatchObject({ periodSeconds: 1, timeoutSeconds: 1 });
    expect(probesFor(hc({ intervalSeconds: 0.5, timeoutSeconds: 0.25 })).livenessProbe).toMatchObject({ periodSeconds: 10, timeoutSeconds: 1 });
  });

  test('a frequent healthcheck: readiness keeps its pace, liveness asks every 10 s over the same span', () => {
    const p = probesFor(hc({ intervalSeconds: 2, retries: 5 }));
    expect(p.readinessProbe).toMatchObject({ periodSeconds: 2, failureThreshold: 5 });
    expect(p.livenessProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 2 }); // 10 s span, never a single miss
    expect(probesFor(hc({ intervalSeconds: 2, retries: 30 })).livenessProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 6 });
    expect(probesFor(hc({ intervalSeconds: 3, retries: 20 })).livenessProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 6 });
  });
});

describe('depends_on wait containers', () => {
  // The TCP wait runs for real under /bin/sh with only the tools a given image has on PATH.
  const tools = (names: Record<string, string>) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-wait-'));
    for (const [name, target] of Object.entries(names)) symlinkSync(target, path.join(dir, name));
    return dir;
  };
  const runWait = (port: number, pathDir: string, ms: number) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', waitScript({ name: '127.0.0.1', kind: 'tcp', port })], { env: { PATH: pathDir } });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
  const listen = () =>
    new Promise<net.Server>((resolve) => {
      const srv = net.createServer((sock) => {
        sock.on('error', () => undefined);
        sock.destroy();
      });
      srv.listen(0, '127.0.0.1', () => resolve(srv));
    });
  const kits: [string, Record<string, string>][] = [
    ['busybox (nc without -z)', { nc: '/bin/busybox', timeout: '/bin/busybox', sleep: '/bin/busybox' }],
    ['curl only', { curl: '/usr/bin/curl', sleep: '/bin/sleep' }],
    ['bash only', { bash: '/bin/bash', sleep: '/bin/sleep' }],
  ];
  test.each(kits)('TCP with %s: returns once the port listens, keeps waiting while it does not', async (_kit, names) => {
    const dir = tools(names);
    const srv = await listen();
    const port = (srv.address() as net.AddressInfo).port;
    const open = await runWait(port, dir, 15_000);
    expect(open).toEqual({ code: 0, out: `waiting for 127.0.0.1:${port}\n127.0.0.1:${port} is up\n` });
    await new Promise((r) => srv.close(r));
    const closed = await runWait(port, dir, 3000);
    expect(closed.code).toBeNull(); // still waiting when killed
    expect(closed.out).not.toContain('is up');
  }, 30_000);
  test('port-less services: DNS resolution (headless names resolve only to ready pods)', () => {
    expect(waitScript({ name: 'redis', kind: 'dns' })).toContain('until getent hosts redis >/dev/null 2>&1 || nslookup redis >/dev/null 2>&1; do sleep 2; done');
  });
  test('jobs: polls the API until the Job succeeded', () => {
    const s = waitScript({ name: 'migrate', kind: 'job' });
    expect(s).toContain('/apis/batch/v1/namespaces/$(cat $sa/namespace)/jobs/migrate');
    expect(s).toContain(`grep -Eq '"succeeded": ?[1-9]'`);
  });
  test('the container never pulls', () => {
    const c = waitContainer({ name: 'db', kind: 'tcp', port: 5432 }, 'stackport-api:1');
    expect(c).toMatchObject({ name: 'wait-for-db', image: 'stackport-api:1', imagePullPolicy: 'IfNotPresent' });
    expect(c.command!.slice(0, 2)).toEqual(['/bin/sh', '-c']);
  });
});
