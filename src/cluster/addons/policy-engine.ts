import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../exec/run.js';
import { StackportError } from '../../errors.js';
import { SilentProgress, type Progress } from '../../ui/progress.js';
import { CacheLayout } from '../build/cache.js';
import { SERVICE_SUBNET } from '../host/cni.js';
import { KUBE_PROXY_PACKAGES, buildDebianBase } from '../build/debian-base.js';
import { buildGoComponent, type GoComponent } from '../build/go-build.js';
import { DEFAULT_PATH, layerFromDir, writeImageArchive } from '../build/image-archive.js';
import type { ArchiveLoader, KubectlLike } from './metrics-server.js';
import { KUBERNETES_VERSION } from '../build/versions.js';

/**
 * NetworkPolicy enforcement for both providers: kube-router in firewall-only mode
 * (`--run-firewall=true --run-router=false --run-service-proxy=false`) as a DaemonSet on the
 * node's network. It turns NetworkPolicies into iptables rules and ipsets (NFLOG for what it
 * drops), which this kernel has (IP_SET, NETFILTER_XT_SET, XT_TARGET_NFLOG); kindnetd's engine
 * would need NFT_QUEUE, which it lacks. The pod network stays ours (bridge CNI, kube-proxy).
 *
 * Version: the Go module proxy here serves exactly one release of
 * github.com/cloudnativelabs/kube-router/v2, v2.1.0, and refuses every later tag; Calico is not
 * served at all. v2.1.0's reported flaws are in the dependencies it pins (golang.org/x/net's
 * HTTP/2 CONTINUATION flood, grpc, protobuf's protojson loop, the docker client's AuthZ bypass, …),
 * so the wrapper module requires the fixed releases of those (POLICY_ENGINE_DEPENDENCY_FLOOR);
 * Go's minimal version selection then builds kube-router v2.1.0's own code against them.
 * docs/cluster.md ("NetworkPolicy") has the decision and the measurements.
 */
export const KUBE_ROUTER_VERSION = 'v2.1.0';
export const POLICY_ENGINE_NAME = 'kube-router';
export const POLICY_ENGINE_NAMESPACE = 'kube-system';
/** Bumped when the image recipe (packages, files) changes, so the cached archive is rebuilt. */
const IMAGE_REVISION = '1';
export const POLICY_ENGINE_IMAGE = `stackport.local/kube-router:${KUBE_ROUTER_VERSION}-${IMAGE_REVISION}`;
/** kube-router's health endpoint (its default port) on the node's network. */
export const POLICY_ENGINE_HEALTH_PORT = 20244;
/** Debian packages added on top of the cluster's Debian base (which has iptables, conntrack, iproute2). */
export const POLICY_ENGINE_PACKAGES = ['ipset', 'libipset13'];

/**
 * Dependencies of kube-router v2.1.0 raised to releases that fix the advisories reported against
 * the versions v2.1.0 pins (its go.mod: x/net v0.21.0, grpc v1.62.0, protobuf v1.32.0,
 * docker v25.0.3, and the x/crypto, x/oauth2 it pulls in).
 */
export const POLICY_ENGINE_DEPENDENCY_FLOOR: Record<string, string> = {
  'golang.org/x/net': 'v0.47.0',
  'golang.org/x/crypto': 'v0.45.0',
  'golang.org/x/oauth2': 'v0.30.0',
  'google.golang.org/grpc': 'v1.79.3',
  'google.golang.org/protobuf': 'v1.36.10',
  'github.com/docker/docker': 'v28.5.2+incompatible',
};

export function policyEngineComponent(version = KUBE_ROUTER_VERSION): GoComponent {
  const m = 'github.com/cloudnativelabs/kube-router/v2';
  const floor = Object.entries(POLICY_ENGINE_DEPENDENCY_FLOOR).map(([mod, v]) => `\t${mod} ${v}`);
  return {
    name: 'kube-router',
    module: m,
    version,
    go: '1.24.0',
    goModExtra: ['require (', ...floor, ')', ''].join('\n'),
    programs: [{ pkg: `${m}/cmd/kube-router`, out: 'kube-router' }],
    ldflags: `-X ${m}/pkg/version.Version=${version} -X ${m}/pkg/version.BuildDate=2026-01-01T00:00:00Z`,
  };
}

export function policyEngineArgs(serviceSubnet = SERVICE_SUBNET): string[] {
  return [
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    // the same Service range as the cluster: traffic to ClusterIPs is judged after kube-proxy's DNAT
    `--service-cluster-ip-range=${serviceSubnet}`,
    `--health-port=${POLICY_ENGINE_HEALTH_PORT}`,
    '--metrics-port=0',
    '--v=1',
  ];
}

/** ServiceAccount, RBAC and the DaemonSet (host network, NET_ADMIN + NET_RAW, not privileged). */
export function policyEngineObjects(image = POLICY_ENGINE_IMAGE, serviceSubnet = SERVICE_SUBNET, apiServer?: { host: string; port: number }): Record<string, unknown>[] {
  // the API server directly, not through the `kubernetes` ClusterIP that kube-proxy programs (local-path.ts says why)
  const apiEnv = apiServer ? [{ name: 'KUBERNETES_SERVICE_HOST', value: apiServer.host }, { name: 'KUBERNETES_SERVICE_PORT', value: String(apiServer.port) }] : [];
  const ns = POLICY_ENGINE_NAMESPACE;
  const name = POLICY_ENGINE_NAME;
  const labels = { 'k8s-app': name, 'app.kubernetes.io/part-of': 'stackport' };
  const read = ['get', 'list', 'watch'];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [
        { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'nodes', 'endpoints'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: { 'k8s-app': name } },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            tolerations: [{ operator: 'Exists' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [
              {
                name,
                image,
                imagePullPolicy: 'IfNotPresent',
                args: policyEngineArgs(serviceSubnet),
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, ...apiEnv],
                livenessProbe: { httpGet: { host: '127.0.0.1', path: '/healthz', port: POLICY_ENGINE_HEALTH_PORT }, initialDelaySeconds: 10, periodSeconds: 10 },
                resources: { requests: { cpu: '20m', memory: '48Mi' } },
                // privileged containers cannot start on every host here (capability bounding set);
                // netfilter and ipset need only these two
                securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
                volumeMounts: [{ name: 'xtables-lock', mountPath: '/run/xtables.lock' }],
              },
            ],
            volumes: [{ name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } }],
          },
        },
      },
    },
  ];
}

export function policyEngineManifests(image = POLICY_ENGINE_IMAGE, serviceSubnet = SERVICE_SUBNET, apiServer?: { host: string; port: number }): string {
  return policyEngineObjects(image, serviceSubnet, apiServer).map((d) => stringify(d)).join('---\n');
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/**
 * Builds (once, cached by version under the kubeadm cache) kube-router and its image: the
 * cluster's Debian base layer (iptables, conntrack, iproute2; shared with kube-proxy) plus a layer
 * with Debian's ipset and the binary. Returns the archive's path.
 */
export async function buildPolicyEngineImage(progress: Progress = new SilentProgress(), cache = new CacheLayout(KUBERNETES_VERSION)): Promise<string> {
  const out = cache.imageArchive(`${POLICY_ENGINE_IMAGE.replace(/[/:]/g, '_')}.tar`);
  if (await exists(out)) return out;
  await buildGoComponent(policyEngineComponent(), { srcDir: join(cache.root, 'src'), binDir: cache.bin, logDir: cache.logs, progress, label: 'kube-router' });
  await progress.step('debian base (debootstrap)', () => buildDebianBase(cache.debianRootfs, KUBE_PROXY_PACKAGES, cache.logs));
  await progress.step(`image ${POLICY_ENGINE_IMAGE}`, async () => {
    const work = join(cache.root, 'work', 'kube-router');
    await rm(work, { recursive: true, force: true });
    const debs = join(work, 'debs');
    const root = join(work, 'rootfs');
    await mkdir(debs, { recursive: true });
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    // Debian's own packages, unpacked (no dpkg run inside the image: nothing to configure)
    await run(['apt-get', 'download', ...POLICY_ENGINE_PACKAGES], {
      cwd: debs,
      what: `apt-get download ${POLICY_ENGINE_PACKAGES.join(' ')}`,
      hint: 'run `apt-get update` (the Debian mirror must be reachable)',
      timeoutMs: 5 * 60_000,
    });
    const files = (await readdir(debs)).filter((f) => f.endsWith('.deb'));
    if (files.length !== POLICY_ENGINE_PACKAGES.length) throw new StackportError(`apt-get download gave ${files.length} packages, expected ${POLICY_ENGINE_PACKAGES.length}`, { details: files.join('\n') });
    for (const f of files) await run(['dpkg-deb', '-x', join(debs, f), root], { what: `dpkg-deb -x ${f}` });
    await rm(join(root, 'usr/share'), { recursive: true, force: true });
    await run(['cp', cache.binary('kube-router'), join(root, 'usr/local/bin/kube-router')]);
    const layer = join(work, 'layer.tar');
    await layerFromDir(root, layer);
    await writeImageArchive(
      { tags: [POLICY_ENGINE_IMAGE], layers: [cache.debianRootfs, layer], config: { Env: [DEFAULT_PATH], Entrypoint: ['/usr/local/bin/kube-router'] } },
      out,
    );
    await rm(work, { recursive: true, force: true });
  });
  return out;
}

export interface DeployPolicyEngineOptions {
  progress?: Progress;
  cache?: CacheLayout;
  /** image already on the nodes: skip the loader */
  hasImage?: (image: string) => Promise<boolean>;
  serviceSubnet?: string;
  /** the API server the engine talks to instead of the `kubernetes` ClusterIP (kubeadm: the node's address) */
  apiServer?: { host: string; port: number };
  /** false: apply and return; the caller waits for the DaemonSet (kubeadm `up` waits for it beside CoreDNS). Default true. */
  waitForRollout?: boolean;
}

/**
 * Idempotent, for any provider: builds the image (cached), loads it unless the nodes have it,
 * applies the objects and waits until kube-router runs on every node. kubeadm passes
 * `ctr images import`, kind `kind load image-archive`.
 */
export async function deployPolicyEngine(kubectl: KubectlLike, loadArchive: ArchiveLoader, options: DeployPolicyEngineOptions = {}): Promise<void> {
  const progress = options.progress ?? new SilentProgress();
  const archive = await buildPolicyEngineImage(progress, options.cache);
  await progress.step('network policy engine (kube-router)', async () => {
    if (!(options.hasImage && (await options.hasImage(POLICY_ENGINE_IMAGE)))) await loadArchive(archive, POLICY_ENGINE_IMAGE);
    await kubectl.apply(policyEngineManifests(POLICY_ENGINE_IMAGE, options.serviceSubnet, options.apiServer));
    if (options.waitForRollout ?? true) await kubectl.run(['-n', POLICY_ENGINE_NAMESPACE, 'rollout', 'status', `daemonset/${POLICY_ENGINE_NAME}`, '--timeout=180s'], { timeoutMs: 200_000 });
  });
}

/** The engine's DaemonSet runs our image and is ready on every node it is scheduled to (the create action's done-check). */
export async function policyEngineRunning(kubectl: KubectlLike): Promise<boolean> {
  const r = await kubectl
    .run(['-n', POLICY_ENGINE_NAMESPACE, 'get', `daemonset/${POLICY_ENGINE_NAME}`, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.status.desiredNumberScheduled} {.status.numberReady} {.status.updatedNumberScheduled}'])
    .catch(() => undefined);
  const [image, desired, ready, updated] = (r?.stdout ?? '').trim().split(' ');
  return image === POLICY_ENGINE_IMAGE && Number(desired) > 0 && desired === ready && desired === updated;
}
