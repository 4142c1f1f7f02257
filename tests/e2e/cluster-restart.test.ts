/**
 * The kubeadm cluster survives a host reboot, and `up` resumes after a failed action.
 * A "reboot" here is kill -9, by pid, of every process of the cluster: our containerd, its shims,
 * the kubelet supervisor and the kubelet, every process in the pod cgroups (static pods
 * included) and the entry forwarder. The state on disk stays, as after a real reboot. Then
 * `up` must start everything again, keep etcd (objects) and the volumes (data), and be Ready.
 * Uses namespace restart-e2e-<pid> and the local busybox helper image (no pulls).
 */
import { resolve } from 'node:path';
import { ActionError } from '../../src/exec/actions.js';
import { probe } from '../../src/exec/run.js';
import { waitFor } from '../../src/exec/wait.js';
import { clusterProcesses, killClusterProcesses } from '../../src/cluster/host/cleanup.js';
import { isAlive, readPid } from '../../src/cluster/host/daemon.js';
import { busyboxVersion } from '../../src/cluster/build/images.js';
import { KubeadmProvider } from '../../src/cluster/providers/kubeadm.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { waitForMetrics } from '../../src/cluster/addons/metrics-server.js';

jest.setTimeout(20 * 60_000);

const root = resolve(__dirname, '../..');
const provider = new KubeadmProvider({ root });
const ns = `restart-e2e-${process.pid}`;
const marker = `written-before-the-reboot-${Date.now()}`;
let k: Kubectl;

/** The stand-in for a reboot: SIGKILL, by pid, to every cluster process; returns how many. */
async function killCluster(): Promise<number> {
  expect((await clusterProcesses()).length).toBeGreaterThan(10);
  const killed = await killClusterProcesses();
  expect(await clusterProcesses()).toEqual([]);
  return killed.length;
}

async function dataPodReadySince(since: number): Promise<void> {
  await waitFor('data-0 Ready after the restart', async (ctl) => {
    const pod = JSON.parse((await k.run(['-n', ns, 'get', 'pod', 'data-0', '-o', 'json'])).stdout) as {
      status: { conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { running?: { startedAt?: string } } }[] };
    };
    const started = pod.status.containerStatuses?.[0]?.state?.running?.startedAt;
    const ready = pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    ctl.seen(`ready=${ready} startedAt=${started}`);
    return ready && started !== undefined && Date.parse(started) >= Math.floor(since / 1000) * 1000 - 1000;
  }, { timeoutMs: 180_000, intervalMs: 1000 });
}

const read = async (file: string) => (await k.run(['-n', ns, 'exec', 'data-0', '--', 'cat', file])).stdout;

beforeAll(async () => {
  await provider.create({ progress: new SilentProgress() });
  k = new Kubectl(provider.cache.binary('kubectl'), await provider.kubeconfig());
  const helper = `stackport.local/busybox:${await busyboxVersion()}`;
  await k.apply(`
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: record, namespace: ${ns} }
data: { marker: ${marker} }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: data, namespace: ${ns} }
spec:
  serviceName: data
  replicas: 1
  selector: { matchLabels: { app: data } }
  template:
    metadata: { labels: { app: data } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: data
        image: ${helper}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'echo "start $(date +%s)" >> /data/starts; exec sleep 36000']
        readinessProbe: { exec: { command: [test, -f, /data/starts] }, periodSeconds: 1 }
        volumeMounts: [{ name: d, mountPath: /data }]
  volumeClaimTemplates:
  - metadata: { name: d }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 16Mi } } }
`);
  await waitFor('data-0 Ready', async () => (await k.run(['-n', ns, 'get', 'pod', 'data-0', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', { timeoutMs: 180_000, intervalMs: 1000 });
  await k.run(['-n', ns, 'exec', 'data-0', '--', 'sh', '-c', `echo ${marker} > /data/row && sync`]);
});

afterAll(async () => {
  if (k) await probe([k.binary, '--kubeconfig', k.kubeconfig, 'delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

test('after every cluster process is killed (a reboot), up restarts it within the budget and keeps etcd and the volume', async () => {
  const pvBefore = (await k.run(['-n', ns, 'get', 'pvc', 'd-data-0', '-o', 'jsonpath={.spec.volumeName}'])).stdout;
  const killed = await killCluster();
  expect((await provider.status()).state).not.toBe('running');

  const progress = new SilentProgress();
  const started = Date.now();
  await provider.create({ progress });
  const upMs = Date.now() - started;
  const ran = progress.timings.map((t) => t.name);
  process.stderr.write(`[cluster-restart] killed ${killed} processes; up to Ready (node, DNS, storage) in ${(upMs / 1000).toFixed(1)} s: ${progress.timings.map((t) => `${t.name} ${(t.ms / 1000).toFixed(1)} s`).join(', ')}\n`);
  // restarted, not rebuilt: no kubeadm init, no reset
  expect(ran).toEqual(expect.arrayContaining(['start containerd', 'start the kubelet supervisor', 'node Ready', 'app entry 127.0.0.1:8090']));
  expect(ran).not.toContain('kubeadm init');
  expect(ran).not.toContain('reset a broken cluster');
  expect(upMs).toBeLessThan(Number(process.env.STACKPORT_RESTART_BUDGET_MS ?? 60_000));

  // etcd kept: the objects of before, the same claim and volume
  expect((await k.run(['-n', ns, 'get', 'configmap', 'record', '-o', 'jsonpath={.data.marker}'])).stdout).toBe(marker);
  expect((await k.run(['-n', ns, 'get', 'pvc', 'd-data-0', '-o', 'jsonpath={.spec.volumeName}'])).stdout).toBe(pvBefore);
  // the volume kept: the pod runs again (a new container) and reads what was written before
  await dataPodReadySince(started);
  expect((await read('/data/row')).trim()).toBe(marker);
  expect((await read('/data/starts')).trim().split('\n')).toHaveLength(2);
  expect((await provider.status()).state).toBe('running');
});

test('a restart that fails at an action after init is finished by a re-run (fault injection: node-ready, then metrics-server)', async () => {
  await killCluster();
  const failAt = async (action: string) => {
    const before = process.env.STACKPORT_FAIL_ACTION;
    process.env.STACKPORT_FAIL_ACTION = action;
    try {
      const err = (await provider.create({ progress: new SilentProgress() }).then(() => undefined, (e: unknown) => e)) as ActionError | undefined;
      expect(err).toBeInstanceOf(ActionError);
      expect(err!.action).toBe(action);
      expect(err!.message).toContain(`failed at action ${action}: injected failure`);
    } finally {
      if (before === undefined) delete process.env.STACKPORT_FAIL_ACTION;
      else process.env.STACKPORT_FAIL_ACTION = before;
    }
  };
  await failAt('node-ready');
  // the actions after the failed one did not run: no entry yet
  expect(await readPid('entry-forward').then((p) => (p && isAlive(p) ? p : undefined))).toBeUndefined();
  await failAt('metrics-server');
  const progress = new SilentProgress();
  const started = Date.now();
  await provider.create({ progress });
  const ran = progress.timings.map((t) => t.name);
  // the re-run did not restart what the failed runs had started, nor init again
  expect(ran).not.toContain('start containerd');
  expect(ran).not.toContain('kubeadm init');
  expect(ran).toContain('app entry 127.0.0.1:8090');
  process.stderr.write(`[cluster-restart] re-run after injected failures: ${((Date.now() - started) / 1000).toFixed(1)} s (${ran.join(', ')})\n`);
  expect((await provider.status()).state).toBe('running');
  await dataPodReadySince(started - 120_000);
  expect((await read('/data/row')).trim()).toBe(marker);
});

test('after the restarts the metrics API answers: no connection to a Service kube-proxy had not programmed yet left the host', async () => {
  // The API server starts before kube-proxy after a reboot and dials the metrics APIService's
  // ClusterIP at once. STACKPORT-SERVICES refuses that dial until kube-proxy's DNAT exists (it
  // once reached this host's TLS interceptor and the API server kept that connection: CI).
  expect((await probe(['iptables', '-w', '-C', 'OUTPUT', '-j', 'STACKPORT-SERVICES'])).exitCode).toBe(0);
  const refused = await probe(['iptables', '-w', '-S', 'STACKPORT-SERVICES']);
  expect(refused.stdout).toContain('-d 10.96.0.0/12 -p tcp -j REJECT --reject-with tcp-reset');
  const started = Date.now();
  await waitForMetrics(k, 120_000);
  process.stderr.write(`[cluster-restart] metrics API answers ${((Date.now() - started) / 1000).toFixed(1)} s after the last up\n`);
});
