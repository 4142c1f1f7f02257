/**
 * Scaling with load on the real kubeadm cluster (issue 7). The demo app's web service asks for
 * `x-stackport: { autoscale: { min: 1, max: 4, cpu: 50 } }`; metrics-server (built from its Go
 * module) feeds the HorizontalPodAutoscaler. A bounded load run against the app entry on
 * 127.0.0.1 drives it from min to more pods; after the load it scales back to min (the run sets
 * a 15 s scale-down stabilization window on the HPA, and restores it); no request fails while
 * pods are added and removed. Waits are on HPA status and replica counts, never fixed sleeps.
 *
 * Starts from a known state whatever ran before (another project's app, a web tier scaled by
 * hand, a kind cluster holding the entry port): the kubeadm cluster (created if absent), the
 * app objects removed, then the demo app migrated afresh without data (`--no-data`).
 */
import path from 'node:path';
import { runAutoscale, formatAutoscale } from '../../src/bench/autoscale-bench.js';
import { deployMetricsServer, metricsAvailable } from '../../src/cluster/addons/metrics-server.js';
import { detect } from '../../src/cluster/providers/detect.js';
import type { ClusterProvider } from '../../src/cluster/providers/provider.js';
import type { Kubectl } from '../../src/cluster/kubectl.js';
import { hpaStatus } from '../../src/operate/hpa-status.js';
import { kubectlFor } from '../../src/migrate/kube.js';
import { APP_KINDS, APP_SELECTOR } from '../../src/migrate/migrate.js';
import { runScript } from '../integration/helpers.js';
import { SilentProgress } from '../../src/ui/progress.js';

jest.setTimeout(15 * 60_000);

const root = path.resolve(__dirname, '..', '..');
const log = (line: string) => process.stderr.write(`[autoscale e2e] ${line}\n`);

let provider: ClusterProvider;
let kubectl: Kubectl;

describe('autoscale (kubeadm)', () => {
  beforeAll(async () => {
    const progress = new SilentProgress();
    // Both providers want 127.0.0.1:8090: a kind cluster left by another test goes first.
    const kind = await detect({ root }, 'kind').catch(() => undefined);
    if (kind && (await kind.status()).state !== 'absent') await kind.delete({ progress });
    provider = await detect({ root }, 'kubeadm');
    await provider.create({ progress });
    kubectl = await kubectlFor(provider);
    if (!(await metricsAvailable(kubectl))) await deployMetricsServer(kubectl, (archive) => provider.loadArchives([archive]), { hasImage: (i) => provider.hasImage(i) });
    await kubectl.run(['delete', APP_KINDS, '-l', APP_SELECTOR, '--wait=true', '--timeout=120s']);
    // the migration as a user runs it (its own process: the generator's schema library is ESM-only)
    const r = await runScript('migrate.mjs', ['--provider', 'kubeadm', '--no-data'], process.env, 600_000);
    if (r.code !== 0) throw new Error(`migrate exited with ${r.code}:\n${r.stderr.slice(-3000)}`);
    expect((await hpaStatus(kubectl, 'default')).find((r) => r.name === 'web')).toMatchObject({ min: 1, max: 4 });
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

