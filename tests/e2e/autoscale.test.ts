/**
 * Scaling with load on the real kubeadm cluster (issue 7). The demo app's web service asks for
 * `x-stackport: { autoscale: { min: 1, max: 4, cpu: 50 } }`; metrics-server (built from its Go
 * module) feeds the HorizontalPodAutoscaler. A bounded load run against the app entry on
 * 127.0.0.1 drives it from min to more pods; after the load it scales back to min (the run sets
 * a 15 s scale-down stabilization window on the HPA, and restores it); no request fails while
 * pods are added and removed. Waits are on HPA status and replica counts, never fixed sleeps.
 *
 * Uses the running cluster and the migrated demo app when present; otherwise creates the cluster
 * and migrates (`make up` must have brought the Compose stack up). Shares the cluster's web
 * Deployment with other day-two tests: run it on its own (STACKPORT_E2E_AUTOSCALE=1).
 */
import path from 'node:path';
import { runAutoscale, formatAutoscale } from '../../src/bench/autoscale-bench.js';
import { deployMetricsServer, metricsAvailable } from '../../src/cluster/metrics-server.js';
import { detect, type ClusterProvider } from '../../src/cluster/provider.js';
import type { Kubectl } from '../../src/cluster/kubectl.js';
import { hpaStatus } from '../../src/k8s/hpa-status.js';
import { kubectlFor } from '../../src/migrate/kube.js';
import { migrate } from '../../src/migrate/migrate.js';
import { SilentProgress } from '../../src/ui/progress.js';

jest.setTimeout(15 * 60_000);

const root = path.resolve(__dirname, '..', '..');
const log = (line: string) => process.stderr.write(`[autoscale e2e] ${line}\n`);
const enabled = process.env.STACKPORT_E2E_AUTOSCALE === '1';
const maybe = enabled ? describe : describe.skip;

let provider: ClusterProvider;
let kubectl: Kubectl;

async function appReady(): Promise<boolean> {
  const rows = await hpaStatus(kubectl, 'default').catch(() => []);
  if (!rows.some((r) => r.name === 'web')) return false;
  const r = await kubectl.run(['-n', 'default', 'get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}']).catch(() => undefined);
  return Number(r?.stdout || 0) >= 1;
}

maybe('autoscale (kubeadm)', () => {
  beforeAll(async () => {
    provider = await detect({ root }, 'kubeadm');
    if ((await provider.status()).state === 'absent') await provider.create({ progress: new SilentProgress() });
    kubectl = await kubectlFor(provider);
    if (!(await metricsAvailable(kubectl))) await deployMetricsServer(kubectl, (archive) => provider.loadArchives([archive]), { hasImage: (i) => provider.hasImage(i) });
    if (!(await appReady())) {
      log('demo app with its HPA not in the cluster: migrating the Compose stack');
      await migrate({ root, progress: new SilentProgress(), out: process.stderr, provider: 'kubeadm' });
    }
  });

  test('kubectl top pods -A answers with metrics from metrics-server', async () => {
    const r = await kubectl.run(['top', 'pods', '-A', '--no-headers']);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.some((l) => /^kube-system\s+metrics-server-\S+\s+\d+m\s+\d+Mi$/.test(l.trim()))).toBe(true);
  });

  test('load scales web out from min, then back to min; no request fails', async () => {
    // STACKPORT_AUTOSCALE_URL: another loopback forwarder to NodePort 30080 when 8090 is taken (e.g. by a kind cluster)
    const r = await runAutoscale({ kubectl, url: process.env.STACKPORT_AUTOSCALE_URL ?? provider.entry(), ratePerSecond: 150, loadMs: 100_000, scaleDownWindowSeconds: 15, scaleInTimeoutMs: 240_000, log });
    log(`\n${formatAutoscale(r)}`);
    expect(r.min).toBe(1);
    expect(r.scaleOutMs).toBeDefined();
    expect(r.peakReplicas).toBeGreaterThan(r.min);
    expect(r.peakReplicas).toBeLessThanOrEqual(r.max);
    expect(r.scaleInMs).toBeDefined();
    expect(r.failed).toBe(0);
    // and the HPA's behaviour is restored (5-minute default scale-down window)
    const hpa = JSON.parse((await kubectl.run(['get', 'hpa', 'web', '-o', 'json'])).stdout) as { spec: { behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } } } };
    expect(hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300).toBe(300);
  });
});

if (!enabled) test('autoscale e2e is opt-in (STACKPORT_E2E_AUTOSCALE=1)', () => expect(enabled).toBe(false));
