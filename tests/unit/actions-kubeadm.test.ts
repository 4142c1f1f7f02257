import { ActionError, runActions } from '../../src/exec/actions.js';
import { HOST } from '../../src/cluster/build/cache.js';
import { KubeadmProvider, podProblems, runningTasks, type KubeadmCreateContext, type PodJson } from '../../src/cluster/providers/kubeadm.js';
import { CLUSTER_MARKS, CONTROL_PLANE_FILES, classify, resetNotice, type Observed } from '../../src/cluster/host/kubeadm-state.js';
import { METRICS_SERVER_IMAGE } from '../../src/cluster/addons/metrics-server.js';
import { withBareNamesKept } from '../../src/cluster/build/coredns.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { FakeCmder } from './helpers/fake-cmder.js';

const record = { kubernetesVersion: 'v1.34.4', nodeIp: '10.0.0.5', nodeName: 'vm', createdAt: '2026-12-01T00:00:00Z' };
const all = new Set<string>([...CONTROL_PLANE_FILES, ...CLUSTER_MARKS]);
const seen = (o: Partial<Observed>): Observed => ({ present: all, record, nodeIp: '10.0.0.5', kubernetesVersion: 'v1.34.4', ...o });

describe('host state after a reboot: restart what is intact, reset only what is broken', () => {
  test('nothing on the host', () => {
    expect(classify(seen({ present: new Set(), record: undefined }))).toEqual({ kind: 'none' });
  });

  test('every file of a finished init for this address and release: intact (restart, keep etcd)', () => {
    expect(classify(seen({}))).toEqual({ kind: 'intact', record });
  });

  test('init began but did not finish: broken', () => {
    const s = classify(seen({ record: undefined }));
    expect(s.kind).toBe('broken');
    expect(s.kind === 'broken' && s.reasons[0]).toBe(`kubeadm init did not finish (no ${HOST.state})`);
  });

  test('the node address changed (the certificates name the old one): broken', () => {
    const s = classify(seen({ nodeIp: '10.0.0.9' }));
    expect(s.kind === 'broken' && s.reasons).toEqual(['the node address changed from 10.0.0.5 to 10.0.0.9 (the certificates and manifests name the old one)']);
  });

  test("etcd's data is gone: broken, and the reason names it", () => {
    const present = new Set(all);
    present.delete('/var/lib/etcd/member/snap');
    const s = classify(seen({ present }));
    expect(s.kind === 'broken' && s.reasons).toEqual(['missing: /var/lib/etcd/member/snap']);
  });

  test('the reset notice says what is lost and which volume directories are kept', () => {
    const text = resetNotice(['missing: /etc/kubernetes/admin.conf'], [`${HOST.localVolumes}/pvc-1_ns_data`]);
    expect(text).toContain('Lost: every Kubernetes object in etcd');
    expect(text).toContain(`Kept: the image store and 1 volume directory under ${HOST.localVolumes} (pvc-1_ns_data)`);
  });
});

describe('system pods after a restart', () => {
  const pod = (name: string, ready: boolean, id: string, deleting = false): PodJson => ({
    metadata: { name, ...(deleting ? { deletionTimestamp: '2026-12-01T10:00:00Z' } : {}) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], containerStatuses: [{ name: 'c', ready, containerID: `containerd://${id}` }] },
  });
  const tasks = runningTasks('TASK    PID     STATUS\nnew1    4242    RUNNING\ngone1   4100    STOPPED\n');

  test('ctr tasks ls: only RUNNING tasks count', () => {
    expect([...tasks]).toEqual(['new1']);
  });

  test('a Ready status whose container is not running any more (from before the reboot) does not count', () => {
    expect(podProblems('CoreDNS', [pod('coredns-1', true, 'gone1')], tasks)).toEqual(['CoreDNS: coredns-1 still shows its status from before the restart']);
    expect(podProblems('CoreDNS', [pod('coredns-1', true, 'new1')], tasks)).toEqual([]);
  });

  test('not ready, none yet, and terminating pods', () => {
    expect(podProblems('kube-proxy', [pod('kp', false, 'new1')], tasks)).toEqual(['kube-proxy: kp not ready (Running)']);
    expect(podProblems('kube-proxy', [], tasks)).toEqual(['kube-proxy: no pod yet']);
    expect(podProblems('kube-proxy', [pod('old', false, 'gone1', true), pod('new', true, 'new1')], tasks)).toEqual([]);
  });
});

describe('the kubeadm create actions', () => {
  const provider = new KubeadmProvider({ root: '/tmp/stackport-unit' });
  const ctx = (cmd: FakeCmder): KubeadmCreateContext => ({
    cmd,
    progress: new SilentProgress(),
    ip: '10.0.0.5',
    nodeName: 'vm',
    built: { list: { pause: 'registry.k8s.io/pause:3.10.1' } as never, images: { images: [], localPath: 'stackport.local/local-path-provisioner:v0.0.30', helper: 'stackport.local/busybox:1' } as never },
  });
  const only = (...names: string[]) => provider.createActions().filter((a) => names.includes(a.name));

  test('are the issue\'s sequence: init before anything that needs the API, the add-ons applied before the waits (metrics-server not awaited)', () => {
    expect(provider.createActions().map((a) => a.name)).toEqual([
      'host-packages', 'build', 'reset-broken-state', 'host-network', 'containerd', 'images', 'kubelet-supervisor',
      'kubeadm-init', 'kubeconfig', 'api-server', 'coredns-bare-names', 'storage-class', 'policy-engine', 'metrics-server', 'node-ready', 'system-pods', 'entry',
    ]);
  });

  test('storage-class: done only when the StorageClass, its ConfigMap and the provisioner of the built image, talking to the node\'s API address, are there', async () => {
    const [action] = only('storage-class');
    const cmd = new FakeCmder([{ match: /get storageclass\/local-path/, stdout: 'StorageClass=,\nConfigMap=,\nDeployment=stackport.local/local-path-provisioner:v0.0.30,10.0.0.5\n' }]);
    expect(await action!.done!(ctx(cmd))).toBe(true);
    cmd.on({ match: /get storageclass\/local-path/, stdout: 'StorageClass=,\nConfigMap=,\nDeployment=stackport.local/local-path-provisioner:v0.0.29,10.0.0.5\n', times: 1 });
    expect(await action!.done!(ctx(cmd))).toBe(false);
    // an older cluster's provisioner (through the ClusterIP): applied again
    cmd.on({ match: /get storageclass\/local-path/, stdout: 'StorageClass=,\nConfigMap=,\nDeployment=stackport.local/local-path-provisioner:v0.0.30,\n', times: 1 });
    expect(await action!.done!(ctx(cmd))).toBe(false);
  });

  test("a failed apply names storage-class and keeps kubectl's output; the re-run applies and untaints", async () => {
    const cmd = new FakeCmder([
      { match: /get storageclass\/local-path/, exitCode: 1, stderr: 'Error from server (NotFound)' },
      { match: /kubectl --kubeconfig \/etc\/kubernetes\/admin.conf apply -f -/, exitCode: 1, stderr: 'error: the server is currently unable to handle the request', times: 1 },
    ]);
    const err = (await runActions(only('storage-class'), ctx(cmd), { env: {} }).catch((e) => e)) as ActionError;
    expect(err).toBeInstanceOf(ActionError);
    expect(err.action).toBe('storage-class');
    expect(err.command?.stderr).toBe('error: the server is currently unable to handle the request');
    cmd.calls.length = 0;
    await runActions(only('storage-class'), ctx(cmd), { env: {} });
    expect(cmd.calls.filter((c) => / apply | taint /.test(c)).map((c) => c.split(' ').slice(3, 5).join(' '))).toEqual(['apply -f', 'taint nodes']);
  });

  test('coredns-bare-names: the Corefile gets the NXDOMAIN rule for single-label names once, and CoreDNS starts again with it', async () => {
    const [action] = only('coredns-bare-names');
    const corefile = '.:53 {\n    errors\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    reload\n}\n';
    const cmd = new FakeCmder([{ match: /get configmap coredns -o jsonpath=\{\.data\.Corefile\}/, stdout: corefile }]);
    expect(await action!.done!(ctx(cmd))).toBe(false);
    await runActions([action!], ctx(cmd), { env: {} });
    const patch = cmd.calls.find((c) => / patch configmap coredns /.test(c));
    const sent = JSON.parse(patch!.slice(patch!.indexOf(' -p ') + 4)) as { data: { Corefile: string } };
    expect(sent.data.Corefile).toBe(withBareNamesKept(corefile));
    expect(sent.data.Corefile.indexOf('rcode NXDOMAIN')).toBeLessThan(sent.data.Corefile.indexOf('forward . /etc/resolv.conf'));
    expect(cmd.calls.filter((c) => / patch | rollout /.test(c)).map((c) => c.split(' ').slice(5, 8).join(' '))).toEqual(['patch configmap coredns', 'rollout restart deployment/coredns']);
    // patched: a warm up (or one after a reboot) changes nothing
    cmd.on({ match: /get configmap coredns/, stdout: sent.data.Corefile });
    expect(await action!.done!(ctx(cmd))).toBe(true);
  });

  test('metrics-server: done when its Deployment (our image) and APIService exist, so a warm up skips it', async () => {
    const [action] = only('metrics-server');
    const cmd = new FakeCmder([{ match: /get deployment\/metrics-server apiservice/, stdout: `Deployment=${METRICS_SERVER_IMAGE}\nAPIService=\n` }]);
    expect(await action!.done!(ctx(cmd))).toBe(true);
    cmd.on({ match: /get deployment\/metrics-server/, exitCode: 1, stderr: 'NotFound', times: 1 });
    expect(await action!.done!(ctx(cmd)).catch(() => false)).toBe(false);
  });

  test('STACKPORT_FAIL_ACTION=metrics-server stops before the waits and the entry', async () => {
    const cmd = new FakeCmder([{ match: /get deployment\/metrics-server/, exitCode: 1, stderr: 'NotFound' }]);
    const err = (await runActions(only('metrics-server', 'system-pods', 'entry'), ctx(cmd), { env: { STACKPORT_FAIL_ACTION: 'metrics-server' } }).catch((e) => e)) as ActionError;
    expect(err.action).toBe('metrics-server');
    expect(err.outcomes.map((o) => o.state)).toEqual(['failed', 'not-reached', 'not-reached']);
    expect(cmd.calls).toEqual([]);
  });
});

test('kind create is an action list too: no early return, stopped nodes are started, metrics-server last', async () => {
  const { KindProvider } = await import('../../src/cluster/providers/kind.js');
  expect(new KindProvider({ root: '/tmp/stackport-unit' }).createActions().map((a) => a.name)).toEqual([
    'engine', 'privileged-runtime', 'build', 'start-nodes', 'create-cluster', 'kubeconfig', 'nodes-ready', 'coredns-bare-names', 'policy-engine', 'metrics-server',
  ]);
});
