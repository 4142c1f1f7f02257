import { mkdir, rm, stat } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunOptions } from '../../exec/run.js';
import type { CommandResult } from '../../errors.js';
import { waitFor } from '../../exec/wait.js';
import { SilentProgress, type Progress } from '../../ui/progress.js';
import { CacheLayout } from '../build/cache.js';
import { buildGoComponent, type GoComponent } from '../build/go-build.js';
import { layerFromDir, scratchRootfs, writeImageArchive } from '../build/image-archive.js';
import { KUBERNETES_VERSION } from '../build/versions.js';

/**
 * Resource metrics for the cluster (`kubectl top`, HorizontalPodAutoscalers): metrics-server
 * built from its Go module (sigs.k8s.io/metrics-server), packaged FROM scratch as a local image
 * (no registry), and deployed like upstream's components.yaml with the flags a local cluster
 * needs: the kubelets' serving certificates are self-signed (`--kubelet-insecure-tls`) and nodes
 * are reached on their InternalIP; metrics every 15 s so an HPA reacts within a minute.
 */
export const METRICS_SERVER_VERSION = 'v0.8.0';
export const METRICS_SERVER_IMAGE = `stackport.local/metrics-server:${METRICS_SERVER_VERSION}`;
export const METRICS_SERVER_NAMESPACE = 'kube-system';
export const METRIC_RESOLUTION = '15s';
/**
 * metrics-server runs on the node's network (hostNetwork) on this port. Why: the API server
 * reaches an aggregated API over TLS with the Service's DNS name as SNI, and on hosts whose
 * outbound TLS is intercepted by SNI (this sandbox: `Server: keryx`, 404 for every aggregated
 * request, `kubectl top`: "Metrics API not available") connections to pod IPs are caught while
 * connections to the node's own address are not. Upstream documents hostNetwork + 4443 for
 * clusters whose control plane cannot reach pod IPs (e.g. some CNIs); it costs nothing here.
 */
export const METRICS_SERVER_PORT = 4443;

export function metricsServerComponent(version = METRICS_SERVER_VERSION): GoComponent {
  const m = 'sigs.k8s.io/metrics-server';
  return {
    name: 'metrics-server',
    module: m,
    version,
    go: '1.24.4',
    programs: [{ pkg: `${m}/cmd/metrics-server`, out: 'metrics-server' }],
    ldflags: `-X ${m}/pkg/version.gitVersion=${version} -X ${m}/pkg/version.gitCommit=${'0'.repeat(40)} -X ${m}/pkg/version.buildDate=2026-01-01T00:00:00Z`,
  };
}

export function metricsServerArgs(): string[] {
  return [
    '--cert-dir=/tmp',
    `--secure-port=${METRICS_SERVER_PORT}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--kubelet-use-node-status-port',
    `--metric-resolution=${METRIC_RESOLUTION}`,
    '--kubelet-insecure-tls',
  ];
}

/** Upstream's components.yaml (v0.8.0), with our image and flags. */
export function metricsServerObjects(image = METRICS_SERVER_IMAGE): Record<string, unknown>[] {
  const ns = METRICS_SERVER_NAMESPACE;
  const labels = { 'k8s-app': 'metrics-server' };
  const sa = { kind: 'ServiceAccount', name: 'metrics-server', namespace: ns };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'metrics-server', namespace: ns, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'system:aggregated-metrics-reader',
        labels: {
          ...labels,
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
        },
      },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:metrics-server', labels },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'metrics-server-auth-reader', namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: [sa],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'metrics-server:system:auth-delegator', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [sa],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:metrics-server', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
      subjects: [sa],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-server', namespace: ns, labels },
      spec: { selector: labels, ports: [{ name: 'https', port: METRICS_SERVER_PORT, protocol: 'TCP', targetPort: 'https' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'metrics-server', namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        strategy: { rollingUpdate: { maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'metrics-server',
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            priorityClassName: 'system-cluster-critical',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [
              {
                name: 'metrics-server',
                image,
                imagePullPolicy: 'IfNotPresent',
                args: metricsServerArgs(),
                ports: [{ containerPort: METRICS_SERVER_PORT, name: 'https', protocol: 'TCP' }],
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' },
                  periodSeconds: 5,
                  failureThreshold: 3,
                  initialDelaySeconds: 5,
                },
                livenessProbe: { httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, failureThreshold: 3 },
                resources: { requests: { cpu: '50m', memory: '64Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 1000,
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp-dir', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
        insecureSkipTLSVerify: true,
        service: { name: 'metrics-server', namespace: ns, port: METRICS_SERVER_PORT },
      },
    },
  ];
}

export function metricsServerManifests(image = METRICS_SERVER_IMAGE): string {
  return metricsServerObjects(image).map((d) => stringify(d)).join('---\n');
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/**
 * Builds (once, cached by version under the kubeadm cache) the metrics-server binary and its
 * image archive; returns the archive's path. Needs Go and the module proxy the first time.
 */
export async function buildMetricsServerImage(progress: Progress = new SilentProgress(), cache = new CacheLayout(KUBERNETES_VERSION)): Promise<string> {
  const c = metricsServerComponent();
  const out = cache.imageArchive(`${METRICS_SERVER_IMAGE.replace(/[/:]/g, '_')}.tar`);
  if (await exists(out)) return out;
  await buildGoComponent(c, { srcDir: join(cache.root, 'src'), binDir: cache.bin, logDir: cache.logs, progress, label: 'metrics-server' });
  await progress.step(`image ${METRICS_SERVER_IMAGE}`, async () => {
    const work = join(cache.root, 'work', 'metrics-server');
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const root = join(work, 'rootfs');
    // /tmp exists for the emptyDir mount point (the root filesystem is read-only)
    await scratchRootfs(root, { 'metrics-server': cache.binary('metrics-server') });
    await mkdir(join(root, 'tmp'), { recursive: true });
    const layer = join(work, 'layer.tar');
    await layerFromDir(root, layer);
    await writeImageArchive({ tags: [METRICS_SERVER_IMAGE], layers: [layer], config: { Entrypoint: ['/metrics-server'], User: '1000' } }, out);
    await rm(work, { recursive: true, force: true });
  });
  return out;
}

/** What deployMetricsServer needs of a cluster: kubectl (Kubectl from ./kubectl.js fits). */
export interface KubectlLike {
  run(args: string[], options?: RunOptions): Promise<CommandResult>;
  apply(yaml: string): Promise<CommandResult>;
}

/** Makes an image archive (docker-save format) available on every node; e.g. `ctr images import` or `kind load image-archive`. */
export type ArchiveLoader = (archive: string, image: string) => Promise<void>;

export interface DeployMetricsServerOptions {
  progress?: Progress;
  cache?: CacheLayout;
  /** image already on the nodes: skip the loader */
  hasImage?: (image: string) => Promise<boolean>;
  /** check from this host that the Service's ClusterIP answers before the APIService is created (kubeadm: the host is the node); default true */
  checkFromHost?: boolean;
  /** how long to wait for `kubectl top` to answer (metrics need one or two scrapes); 0: do not wait */
  waitMs?: number;
  /**
   * false: apply and return without waiting for the Deployment (cluster `up`: metrics-server must
   * not hold it; the commands that need metrics wait with waitForMetrics). The APIService still
   * comes after kube-proxy has a rule for the Service's ClusterIP (checkFromHost). Default true.
   */
  waitForRollout?: boolean;
  /** command seam for the host-side check (iptables-save); default src/exec/run.ts */
  probe?: (argv: string[]) => Promise<CommandResult>;
}

/**
 * Idempotent: builds the image (cached), loads it unless the nodes have it, applies the
 * manifests, waits for the Deployment and for the metrics API to serve node metrics.
 * Any provider can call it: kubeadm passes `ctr images import`, kind `kind load image-archive`.
 */
export async function deployMetricsServer(kubectl: KubectlLike, loadArchive: ArchiveLoader, options: DeployMetricsServerOptions = {}): Promise<void> {
  const progress = options.progress ?? new SilentProgress();
  const archive = await buildMetricsServerImage(progress, options.cache);
  await progress.step('metrics-server', async () => {
    if (!(options.hasImage && (await options.hasImage(METRICS_SERVER_IMAGE)))) await loadArchive(archive, METRICS_SERVER_IMAGE);
    const objects = metricsServerObjects();
    const toYaml = (list: Record<string, unknown>[]) => list.map((d) => stringify(d)).join('---\n');
    // The APIService last: the API server's first connection to the Service must find kube-proxy's
    // rules in place (else, on this host, it reaches the TLS interceptor and keeps that connection).
    await kubectl.apply(toYaml(objects.filter((o) => o.kind !== 'APIService')));
    if (options.waitForRollout ?? true) {
      await kubectl.run(['-n', METRICS_SERVER_NAMESPACE, 'rollout', 'status', 'deployment/metrics-server', '--timeout=180s'], { timeoutMs: 200_000 });
      if (options.checkFromHost ?? true) await waitForServiceFromHost(kubectl, 120_000);
    } else if (options.checkFromHost ?? true) {
      // kubeadm `up` applies it before kube-proxy runs (a fresh create): as long as the node's own start
      await waitForServiceRule(kubectl, options.probe ?? ((argv) => import('../../exec/run.js').then((m) => m.probe(argv))), 180_000);
    }
    await kubectl.apply(toYaml(objects.filter((o) => o.kind === 'APIService')));
    const waitMs = options.waitMs ?? 90_000;
    if (waitMs > 0) await waitForMetrics(kubectl, waitMs);
  });
}

async function serviceIp(kubectl: KubectlLike): Promise<string> {
  return (await kubectl.run(['-n', METRICS_SERVER_NAMESPACE, 'get', 'service', 'metrics-server', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
}

/**
 * Until kube-proxy (on this host, the node) has a rule for the Service's ClusterIP: a DNAT to the
 * endpoints, or, while metrics-server is not ready yet, kube-proxy's REJECT for a Service without
 * endpoints. Either way the API server's first connection to the Service no longer leaves the
 * host for the TLS interceptor (see METRICS_SERVER_PORT); seconds instead of the pod's start.
 */
export async function waitForServiceRule(kubectl: KubectlLike, probe: (argv: string[]) => Promise<CommandResult>, timeoutMs: number): Promise<void> {
  const ip = await serviceIp(kubectl);
  await waitFor(
    `kube-proxy's rule for the metrics-server Service ${ip}`,
    async (ctl) => {
      const r = await probe(['iptables-save']);
      if (r.exitCode === 0 && r.stdout.includes(`-d ${ip}/32`)) return true;
      ctl.seen(r.exitCode === 0 ? 'no rule yet' : r.stderr.trim());
      return false;
    },
    { timeoutMs, intervalMs: 250, hint: 'is kube-proxy running? kubectl -n kube-system get pods -l k8s-app=kube-proxy' },
  );
}

/** GET https://<ip>:<port>/livez without SNI (an IP host): the status and the Server header. */
function livez(ip: string, port: number): Promise<{ status: number; server?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: ip, port, path: '/livez', rejectUnauthorized: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, server: typeof res.headers.server === 'string' ? res.headers.server : undefined, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Until the Service's ClusterIP answers from this host as metrics-server (kube-proxy programmed it). */
export async function waitForServiceFromHost(kubectl: KubectlLike, timeoutMs: number): Promise<void> {
  const ip = await serviceIp(kubectl);
  await waitFor(
    `the metrics-server Service (${ip}:${METRICS_SERVER_PORT}) to answer from this host`,
    async (ctl) => {
      const r = await livez(ip, METRICS_SERVER_PORT);
      if (r.status === 200 && r.body.trim() === 'ok' && !r.server) return true;
      ctl.seen(`HTTP ${r.status} ${r.server ?? ''}`);
      return false;
    },
    { timeoutMs, intervalMs: 1000, hint: 'is kube-proxy running? kubectl -n kube-system get pods' },
  );
}

/** Whether the metrics API answers now (`kubectl top nodes`). */
export async function metricsAvailable(kubectl: KubectlLike): Promise<boolean> {
  return kubectl.run(['top', 'nodes', '--no-headers'], { timeoutMs: 15_000 }).then(() => true, () => false);
}

/** Until `kubectl top nodes` answers (the APIService is Available and a scrape happened). */
export async function waitForMetrics(kubectl: KubectlLike, timeoutMs: number): Promise<void> {
  await waitFor('the metrics API (kubectl top nodes)', () => kubectl.run(['top', 'nodes', '--no-headers'], { timeoutMs: 15_000 }), {
    timeoutMs,
    intervalMs: 2000,
    message: `metrics API did not answer within ${Math.round(timeoutMs / 1000)} s`,
    hint:
      'kubectl get apiservice v1beta1.metrics.k8s.io; kubectl -n kube-system logs deploy/metrics-server. If `kubectl get --raw /apis/metrics.k8s.io/v1beta1 -v=8` shows `Server: keryx`, the API server keeps a connection to this host\'s TLS interceptor opened before kube-proxy programmed the Service: restart the API server (or recreate the cluster)',
  });
}

/** Applied already: the Deployment runs this stackport's image and the APIService exists (the create actions' done-check). */
export async function metricsServerDeployed(kubectl: KubectlLike): Promise<boolean> {
  const r = await kubectl.run(['-n', METRICS_SERVER_NAMESPACE, 'get', 'deployment/metrics-server', 'apiservice/v1beta1.metrics.k8s.io', '-o', 'jsonpath={range .items[*]}{.kind}={.spec.template.spec.containers[0].image}{"\\n"}{end}']);
  const lines = r.stdout.trim().split('\n');
  return lines.length === 2 && lines.includes(`Deployment=${METRICS_SERVER_IMAGE}`);
}
