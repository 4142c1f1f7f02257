/**
 * NetworkPolicies are enforced (issue 13 §3), on the kubeadm cluster: the policy engine
 * (kube-router, firewall only, src/cluster/addons/policy-engine.ts) runs, and the policies the generator
 * writes for a small app hold. The app (namespace np-app) is a db-like server on 5432, a
 * broker-like one on 5672 (busybox httpd, the image the cluster already has) and a client, all
 * on one Compose network. Proof: the client reaches db:5432 and broker:5672; a pod in np-app
 * without the app's network label, and a pod in another namespace (np-other), cannot; the same
 * outsider still reaches a server of its own (the network works, only the policy stops it).
 * Warm: about a minute (the cluster and the policy engine's image exist; prepare built them).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { probe } from '../../src/exec/run.js';
import { waitFor } from '../../src/exec/wait.js';
import { busyboxVersion } from '../../src/cluster/build/images.js';
import { importArchive } from '../../src/cluster/host/containerd.js';
import { KubeadmProvider } from '../../src/cluster/providers/kubeadm.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { POLICY_ENGINE_NAME, POLICY_ENGINE_NAMESPACE, deployPolicyEngine } from '../../src/cluster/addons/policy-engine.js';
import { render } from '../../src/k8s/generate.js';
import { networkLabel } from '../../src/k8s/labels.js';
import { DEFAULT_OPTIONS } from '../../src/k8s/transform.js';
import { ConsoleProgress } from '../../src/ui/progress.js';

jest.setTimeout(10 * 60_000);

const root = resolve(__dirname, '../..');
const provider = new KubeadmProvider({ root });
const APP = 'np-app';
const OTHER = 'np-other';
let k: Kubectl;
let busybox: string;
let dir: string;
const figures: string[] = [];

const kubectl = (args: string[]) => k.run(args, { timeoutMs: 120_000 });

/** One TCP exchange from a pod: an HTTP answer means connected (busybox wget crashes in pods here; nc does not). */
async function reaches(ns: string, pod: string, host: string, port: number): Promise<boolean> {
  const r = await probe([k.binary, '--kubeconfig', k.kubeconfig, '-n', ns, 'exec', pod, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`], { timeoutMs: 30_000 });
  return /^HTTP\/1\.[01] /m.test(r.stdout);
}

async function podOf(ns: string, selector: string): Promise<string> {
  return waitFor(`a Running pod ${selector} in ${ns}`, async () => {
    const r = await kubectl(['-n', ns, 'get', 'pods', '-l', selector, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[0].metadata.name}']);
    return r.stdout.trim() || undefined;
  }, { timeoutMs: 180_000, intervalMs: 1000 });
}

function plainPod(ns: string, name: string, command: string[], labels: Record<string, string> = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { 'np-test': name, ...labels } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name, image: busybox, imagePullPolicy: 'Never', command }] },
  });
}

beforeAll(async () => {
  const progress = new ConsoleProgress();
  // start or reuse (a running cluster is kept); the cold builds happened in `make prepare`
  await provider.create({ progress });
  k = new Kubectl(provider.cache.binary('kubectl'), await provider.kubeconfig());
  busybox = `stackport.local/busybox:${await busyboxVersion()}`;
  const t0 = Date.now();
  await deployPolicyEngine(k, (archive) => importArchive(provider.cache.binary('ctr'), archive), { progress, cache: provider.cache, hasImage: (i) => provider.hasImage(i) });
  figures.push(`policy engine deployed and rolled out in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const ns of [APP, OTHER]) {
    await probe([k.binary, '--kubeconfig', k.kubeconfig, 'delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
    await kubectl(['create', 'namespace', ns]);
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (k) for (const ns of [APP, OTHER]) await probe([k.binary, '--kubeconfig', k.kubeconfig, 'delete', 'namespace', ns, '--wait=false']);
  if (figures.length) process.stderr.write(`network-policy figures:\n  ${figures.join('\n  ')}\n`);
});

test('the policy engine runs on every node, not privileged', async () => {
  const ds = JSON.parse((await kubectl(['-n', POLICY_ENGINE_NAMESPACE, 'get', 'daemonset', POLICY_ENGINE_NAME, '-o', 'json'])).stdout) as {
    status: { desiredNumberScheduled: number; numberReady: number };
    spec: { template: { spec: { hostNetwork: boolean; containers: { args: string[]; securityContext: { privileged: boolean; capabilities: { add: string[] } } }[] } } };
  };
  expect(ds.status.numberReady).toBe(ds.status.desiredNumberScheduled);
  const c = ds.spec.template.spec.containers[0]!;
  expect(c.args).toEqual(expect.arrayContaining(['--run-firewall=true', '--run-router=false', '--run-service-proxy=false']));
  expect(c.securityContext.privileged).toBe(false);
  expect(c.securityContext.capabilities.add.sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
});

test('generated policies: the app talks to db:5432 and broker:5672; a pod without its label and a pod in another namespace cannot', async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackport-np-'));
  const compose = {
    name: APP,
    services: {
      db: { image: busybox, command: ['httpd', '-f', '-p', '5432', '-h', '/tmp'], expose: ['5432'] },
      broker: { image: busybox, command: ['httpd', '-f', '-p', '5672', '-h', '/tmp'], expose: ['5672'] },
      app: { image: busybox, command: ['sleep', '86400'] },
    },
  };
  await writeFile(join(dir, 'compose.yaml'), stringify(compose));
  const { manifests } = render({ load: { file: join(dir, 'compose.yaml'), env: {}, displayBase: dir }, transform: { ...DEFAULT_OPTIONS, displayBase: dir }, target: 'kubeadm' });
  const objects = manifests.files.flatMap((f) => f.objects);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  expect(policies.length).toBeGreaterThanOrEqual(2); // default deny + the network's allow
  const docs = objects.map((o) => stringify({ ...o, metadata: { ...o.metadata, namespace: APP } })).join('---\n');
  await k.apply(docs);
  const label = networkLabel('default');
  // outsiders: the same image, no network label (np-app) or another namespace; and a server of np-other's own
  await k.apply(
    [
      plainPod(APP, 'stranger', ['sleep', '86400']),
      plainPod(OTHER, 'visitor', ['sleep', '86400']),
      plainPod(OTHER, 'own-server', ['httpd', '-f', '-p', '8080', '-h', '/tmp']),
    ].join('---\n'),
  );

  const client = await podOf(APP, 'app.kubernetes.io/name=app');
  await podOf(APP, 'app.kubernetes.io/name=db');
  await podOf(APP, 'app.kubernetes.io/name=broker');
  const stranger = await podOf(APP, 'np-test=stranger');
  const visitor = await podOf(OTHER, 'np-test=visitor');
  await podOf(OTHER, 'np-test=own-server');
  const clientLabels = JSON.parse((await kubectl(['-n', APP, 'get', 'pod', client, '-o', 'jsonpath={.metadata.labels}'])).stdout) as Record<string, string>;
  expect(clientLabels[label]).toBe('true');
  const ownServerIp = (await kubectl(['-n', OTHER, 'get', 'pod', 'own-server', '-o', 'jsonpath={.status.podIP}'])).stdout.trim();

  // the app's own traffic (through the Services' names and ClusterIPs)
  const t0 = Date.now();
  expect(await waitFor('the app reaches db:5432', () => reaches(APP, client, 'db', 5432), { timeoutMs: 60_000, intervalMs: 1000 })).toBe(true);
  expect(await reaches(APP, client, 'broker', 5672)).toBe(true);
  // the outsiders are stopped; the policy engine may need a moment after the pods appeared
  await waitFor('the stranger (no network label) to be refused', async () => !(await reaches(APP, stranger, 'db', 5432)), { timeoutMs: 60_000, intervalMs: 1000 });
  figures.push(`policies enforced for new pods ${((Date.now() - t0) / 1000).toFixed(1)} s after they ran`);
  expect(await reaches(APP, stranger, 'db', 5432)).toBe(false);
  expect(await reaches(APP, stranger, 'broker', 5672)).toBe(false);
  expect(await reaches(OTHER, visitor, `db.${APP}`, 5432)).toBe(false);
  expect(await reaches(OTHER, visitor, `broker.${APP}`, 5672)).toBe(false);
  // ... while the network itself works for them, and the app's traffic still does
  expect(await reaches(OTHER, visitor, ownServerIp, 8080)).toBe(true);
  expect(await reaches(APP, client, 'db', 5432)).toBe(true);
  expect(await reaches(APP, client, 'broker', 5672)).toBe(true);
});

test('the policy engine costs little (CPU and memory, by the metrics API)', async () => {
  const r = await probe([k.binary, '--kubeconfig', k.kubeconfig, '-n', POLICY_ENGINE_NAMESPACE, 'top', 'pod', '-l', `k8s-app=${POLICY_ENGINE_NAME}`, '--no-headers'], { timeoutMs: 30_000 });
  // metrics need a scrape or two: report what there is, assert only when it answered
  if (r.exitCode !== 0) {
    figures.push(`kubectl top: not yet (${r.stderr.trim().split('\n')[0]})`);
    return;
  }
  const [, cpu = '', mem = ''] = r.stdout.trim().split(/\s+/);
  figures.push(`kube-router: cpu ${cpu}, memory ${mem}`);
  expect(Number.parseInt(mem, 10)).toBeLessThan(300); // Mi
});
