import { parseAllDocuments } from 'yaml';
import { formatTimeToK8s, parseRows, type TimeToK8s } from '../../src/bench/cluster-bench.js';
import { snapshot } from '../../src/cluster/providers/kubeadm.js';
import { KUBEADM_PATCHES_DIR, kubeadmConfig, kubeadmPatches } from '../../src/cluster/providers/kubeadm-config.js';
import { localPathManifests } from '../../src/cluster/addons/local-path.js';
import { policyEngineObjects } from '../../src/cluster/addons/policy-engine.js';
import { StackportError } from '../../src/errors.js';

type Obj = { kind: string; spec?: any; metadata?: any; patches?: any; encryptionAlgorithm?: string };
const docs = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
const container = (objs: Obj[], kind: string) => objs.find((o) => o.kind === kind)!.spec.template.spec.containers[0];

describe('a fast cluster up', () => {
  test('kubeadm: ECDSA keys and the patches directory; CoreDNS patched to one replica, readiness every 1 s, the API at the node address', () => {
    const [init, cluster] = docs(kubeadmConfig({ kubernetesVersion: 'v1.34.4', nodeName: 'vm', nodeIp: '192.0.2.2' }));
    expect(cluster!.encryptionAlgorithm).toBe('ECDSA-P256');
    // a single control plane: no lease to wait for after a reboot
    expect((cluster as any).controllerManager.extraArgs).toEqual([{ name: 'leader-elect', value: 'false' }]);
    expect((cluster as any).scheduler.extraArgs).toEqual([{ name: 'leader-elect', value: 'false' }]);
    expect(init!.patches).toEqual({ directory: KUBEADM_PATCHES_DIR });
    const files = kubeadmPatches({ nodeIp: '192.0.2.2' });
    expect(Object.keys(files)).toEqual(['corednsdeployment+strategic.yaml']);
    const [patch] = docs(files['corednsdeployment+strategic.yaml']!);
    expect(patch!.spec.replicas).toBe(1);
    const c = patch!.spec.template.spec.containers[0];
    expect(c.name).toBe('coredns');
    expect(c.readinessProbe).toEqual({ periodSeconds: 1 });
    expect(c.env).toEqual([
      { name: 'KUBERNETES_SERVICE_HOST', value: '192.0.2.2' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '6443' },
    ]);
  });

  test('local-path: with options, the API server at the node address and the helper pod from the mounted file; without, as before (kind)', () => {
    const withOpts = container(docs(localPathManifests('lp:1', 'bb:1', { apiServer: { host: '192.0.2.2', port: 6443 }, helperPodFromFile: true })), 'Deployment');
    expect(withOpts.command).toEqual(['local-path-provisioner', '--debug', 'start', '--config', '/etc/config/config.json', '--helper-pod-file', '/etc/config/helperPod.yaml', '--helper-image', 'bb:1']);
    expect(withOpts.env).toContainEqual({ name: 'KUBERNETES_SERVICE_HOST', value: '192.0.2.2' });
    expect(withOpts.env).toContainEqual({ name: 'KUBERNETES_SERVICE_PORT', value: '6443' });
    // the file the flag names is a key of the mounted ConfigMap
    const cm = docs(localPathManifests('lp:1', 'bb:1')).find((o) => o.kind === 'ConfigMap') as any;
    expect(Object.keys(cm.data)).toContain('helperPod.yaml');
    expect(withOpts.volumeMounts).toEqual([{ name: 'config-volume', mountPath: '/etc/config/' }]);
    const plain = container(docs(localPathManifests('lp:1', 'bb:1')), 'Deployment');
    expect(plain.command).not.toContain('--helper-pod-file');
    expect(plain.env.map((e: { name: string }) => e.name)).toEqual(['POD_NAMESPACE', 'CONFIG_MOUNT_PATH']);
  });

  test('kube-router: the API server address only when given', () => {
    const env = (objs: Record<string, unknown>[]) => container(objs as Obj[], 'DaemonSet').env.map((e: { name: string; value?: string }) => `${e.name}=${e.value ?? ''}`);
    expect(env(policyEngineObjects(undefined, undefined, { host: '192.0.2.2', port: 6443 }))).toEqual(['NODE_NAME=', 'KUBERNETES_SERVICE_HOST=192.0.2.2', 'KUBERNETES_SERVICE_PORT=6443']);
    expect(env(policyEngineObjects())).toEqual(['NODE_NAME=']);
  });

  test('snapshot: waits side by side share one look while it is fresh', async () => {
    let calls = 0;
    const look = snapshot(10_000, async () => ++calls);
    expect(await Promise.all([look(), look(), look()])).toEqual([1, 1, 1]);
    const quick = snapshot(0, async () => ++calls);
    await quick();
    await new Promise((r) => setTimeout(r, 5));
    await quick();
    expect(calls).toBe(3);
  });

  test('bench: --rows is checked before anything runs (exit 2, one line)', () => {
    expect(parseRows('fresh,restart')).toEqual(['fresh', 'restart']);
    const err = (() => {
      try {
        parseRows('fresh,reboot');
      } catch (e) {
        return e as StackportError;
      }
    })();
    expect(err).toBeInstanceOf(StackportError);
    expect(err!.exitCode).toBe(2);
    expect(err!.message).toBe("--rows: unknown row 'reboot'");
    expect(err!.hint).toBe('use a comma-separated list of fresh, warm, restart');
  });

  test('bench table: median (min–max) per row and its target', () => {
    const r = (dnsMs: number): TimeToK8s => ({ upMs: dnsMs - 5000, servesMs: dnsMs - 300, dnsMs, steps: '' });
    const text = formatTimeToK8s(
      [
        ['fresh (down, then up from nothing)', [r(19_000), r(17_000), r(25_000)]],
        ['restart (every cluster process killed, then up)', [r(31_000), r(33_000), r(32_000)]],
      ],
      3,
    );
    const lines = text.split('\n');
    expect(lines[2]).toContain('19.0 s (17.0 s–25.0 s)');
    expect(lines[2]).toMatch(/≤ 20\.0 s: met$/);
    expect(lines[3]).toContain('32.0 s (31.0 s–33.0 s)');
    expect(lines[3]).toMatch(/≤ 30\.0 s: missed by 2\.0 s$/);
  });
});
