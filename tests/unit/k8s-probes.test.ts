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
    expect(probesFor(hc({ intervalSeconds: 0.5, timeoutSeconds: 0.25 })).livenessProbe).toMatchObject({ periodSeconds: 1, timeoutSeconds: 1 });
  });
});

describe('depends_on wait containers', () => {
  test('TCP: nc, or bash /dev/tcp when the image has no nc', () => {
    const s = waitScript({ name: 'db', kind: 'tcp', port: 5432 });
    expect(s).toContain('until nc -z -w 2 db 5432 >/dev/null 2>&1 || (exec 3<>/dev/tcp/db/5432) >/dev/null 2>&1; do sleep 2; done');
  });
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
