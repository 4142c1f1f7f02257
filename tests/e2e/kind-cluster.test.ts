/**
 * The kind provider for real: the kind CLI built from its module, the node image assembled from
 * the kubeadm provider's builds (no registry), nodes started through the runc wrapper on hosts
 * whose bounding set lacks a capability. One node (kind/cluster.yaml): create, images, storage,
 * the app entry on 127.0.0.1:8090, and `down` removing the cluster's containers and network only.
 * The kubeadm cluster is taken down first (both want 127.0.0.1:8090).
 */
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { ensureEngine } from '../../src/engine/engine.js';
import { missingBoundingCaps } from '../../src/engine/runtime-wrapper.js';
import { probe, run } from '../../src/exec/run.js';
import { KubeadmProvider } from '../../src/cluster/providers/kubeadm.js';
import { KIND_CLUSTER_NAME, KindProvider } from '../../src/cluster/providers/kind.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { readImageSet } from '../../src/cluster/build/images.js';
import { detect } from '../../src/cluster/providers/detect.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { waitFor } from '../../src/exec/wait.js';

jest.setTimeout(1_200_000);

const root = path.resolve(__dirname, '..', '..');
const progress = new SilentProgress();
const provider = new KindProvider({ root });
const log = (line: string) => process.stderr.write(`[kind e2e] ${line}\n`);
let k: Kubectl;
let networksBefore: string[];
let defaultNetworks: string[];

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean).sort();
const dockerNetworks = async () => lines((await run(['docker', 'network', 'ls', '-q', '--no-trunc'])).stdout);


beforeAll(async () => {
  await ensureEngine({ logDir: path.join(root, '.stackport', 'logs') });
  await new KubeadmProvider({ root }).delete({ progress });
  await provider.delete({ progress });
  // builds (cached) before the timed create below
  await provider.build(progress);
  networksBefore = await dockerNetworks();
  defaultNetworks = lines((await run(['docker', 'network', 'ls', '-q', '--no-trunc', '--filter', 'type=builtin'])).stdout);
});

afterAll(async () => {
  await provider.delete({ progress });
});

test('create fails clearly, before starting any node, when 127.0.0.1:8090 is taken', async () => {
  // whoever connects (another provider's client, a leftover request loop) is cut off at once,
  // so that close() never waits on them
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(8090, '127.0.0.1', () => r()));
  try {
    await expect(provider.create({ progress })).rejects.toThrow(/127\.0\.0\.1:8090 is taken/);
    await expect(provider.create({ progress })).rejects.toMatchObject({ hint: expect.stringContaining('stop the kubeadm cluster first: make cluster-down') });
    expect(await provider.containers()).toEqual([]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('create: one Ready node of the built release, system pods ready, default StorageClass', async () => {
  const t = Date.now();
  await provider.create({ progress });
  log(`create (1 node, node image cached): ${((Date.now() - t) / 1000).toFixed(1)} s`);
  k = new Kubectl(provider.kubeadmCache.binary('kubectl'), await provider.kubeconfig());
  const nodes = await provider.nodes();
  expect(nodes).toHaveLength(1);
  expect(nodes[0]).toMatchObject({ name: `${KIND_CLUSTER_NAME}-control-plane`, ready: true, kubeletVersion: provider.version });
  expect(nodes[0]!.containerRuntime).toMatch(/^containerd:\/\/2\./);
  const status = await provider.status();
  expect(status).toMatchObject({ provider: 'kind', state: 'running', entry: 'http://127.0.0.1:8090', problems: [] });
  const sc = await k.json<{ metadata: { annotations?: Record<string, string> } }>(['get', 'storageclass', 'local-path']);
  expect(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
  // a second create is a no-op on a running cluster
  const t2 = Date.now();
  await provider.create({ progress });
  expect(Date.now() - t2).toBeLessThan(30_000);
  expect((await provider.containers()).length).toBe(1);
  // detect() picks the cluster that exists
  expect((await detect({ root })).name).toBe('kind');
});

test('metrics-server runs on kind too: kubectl top answers for the node and its pods', async () => {
  const t = Date.now();
  const top = await waitFor('kubectl top nodes', async () => {
    const r = await k.run(['top', 'nodes', '--no-headers']);
    return r.stdout.includes(`${KIND_CLUSTER_NAME}-control-plane`) ? r.stdout : undefined;
  }, 180_000);
  log(`metrics on kind after ${((Date.now() - t) / 1000).toFixed(1)} s: ${top.trim()}`);
  expect(top).toMatch(/\d+m\s+\d+%\s+\d+Mi\s+\d+%/);
  const pods = (await waitFor('kubectl top pods', async () => (await k.run(['top', 'pods', '-A', '--no-headers'])).stdout || undefined, 120_000)).trim().split('\n');
  expect(pods.some((l) => /^kube-system\s+metrics-server-\S+\s+\d+m\s+\d+Mi$/.test(l.trim()))).toBe(true);
});

test('the node was started through the runc wrapper only where the host lacks capabilities', async () => {
  const runtime = (await run(['docker', 'inspect', '--format', '{{.HostConfig.Runtime}}', `${KIND_CLUSTER_NAME}-control-plane`])).stdout.trim();
  expect(runtime).toBe(missingBoundingCaps().length ? 'stackport-runc' : 'runc');
});

test('images: the preloaded ones are there; loadImages brings a Docker image to the node', async () => {
  const set = (await readImageSet(provider.kubeadmCache))!;
  expect(await provider.hasImage(set.helper)).toBe(true);
  const tag = `stackport.local/kind-e2e:${Date.now()}`;
  // the kubeadm cache holds busybox as an archive; load it into the engine as a user's image
  await run(['docker', 'load', '-i', set.images.find((i) => i.name === set.helper)!.archive]);
  await run(['docker', 'tag', set.helper, tag]);
  try {
    expect(await provider.hasImage(tag)).toBe(false);
    const t = Date.now();
    await provider.loadImages([tag], { progress });
    log(`loadImages (busybox, 1 node): ${((Date.now() - t) / 1000).toFixed(1)} s`);
    expect(await provider.hasImage(tag)).toBe(true);
    // a pod runs it without pulling, writes to a PVC (local-path binds it), and serves on NodePort 30080
    const manifest = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kind-e2e}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: kind-e2e, labels: {app: kind-e2e}}
spec:
  containers:
  - name: h
    image: ${tag}
    imagePullPolicy: Never
    command: [sh, -c, 'mkdir -p /www && echo kind-e2e-ok > /data/f && cp /data/f /www/index.html && exec httpd -f -p 80 -h /www']
    volumeMounts: [{name: d, mountPath: /data}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: kind-e2e}}]
---
apiVersion: v1
kind: Service
metadata: {name: kind-e2e}
spec:
  type: NodePort
  selector: {app: kind-e2e}
  ports: [{port: 80, targetPort: 80, nodePort: 30080}]
`;
    await k.apply(manifest);
    await k.run(['wait', '--for=condition=Ready', 'pod/kind-e2e', '--timeout=180s'], { timeoutMs: 190_000 });
    expect((await k.run(['get', 'pvc', 'kind-e2e', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Bound');
    const body = await waitFor('the entry to answer', async () => {
      const r = await fetch(provider.entry(), { signal: AbortSignal.timeout(3000) });
      return r.ok ? r.text() : undefined;
    });
    expect(body.trim()).toBe('kind-e2e-ok');
    await k.run(['delete', 'service,pod,pvc', 'kind-e2e', '--wait=true', '--timeout=120s']);
  } finally {
    await probe(['docker', 'rmi', tag]);
  }
});

test('down removes the cluster\'s containers and network, and nothing else', async () => {
  const compose = lines((await run(['docker', 'ps', '-q', '--filter', 'label=com.docker.compose.project'])).stdout);
  expect((await probe(['docker', 'network', 'inspect', 'kind'])).exitCode).toBe(0);
  await provider.delete({ progress });
  expect(await provider.containers()).toEqual([]);
  expect((await probe(['docker', 'network', 'inspect', 'kind'])).exitCode).not.toBe(0);
  // (only what this test can own: other work on a shared host may add or remove its own things)
  const netsAfter = await dockerNetworks();
  expect(networksBefore.filter((n) => defaultNetworks.includes(n) && !netsAfter.includes(n))).toEqual([]);
  const composeAfter = lines((await run(['docker', 'ps', '-q', '--filter', 'label=com.docker.compose.project'])).stdout);
  expect(compose.filter((id) => !composeAfter.includes(id))).toEqual([]);
  expect((await provider.status()).state).toBe('absent');
  await expect(fetch(provider.entry(), { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});
