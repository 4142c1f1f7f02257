/**
 * The kubeadm provider on this host, for real: builds (cached) and starts a single-node cluster,
 * then checks what a user of the cluster would notice. Needs root, Linux, Go and apt (cold:
 * ~25 min on 2 cores; warm: about a minute). The last test takes the cluster down.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { probe, run } from '../../src/exec/run.js';
import { HOST } from '../../src/cluster/build/cache.js';
import { BRIDGE } from '../../src/cluster/host/cni.js';
import { ourShims, podProcesses } from '../../src/cluster/host/cleanup.js';
import { isAlive, readPid } from '../../src/cluster/host/daemon.js';
import { layerFromDir, scratchRootfs, writeImageArchive } from '../../src/cluster/build/image-archive.js';
import { busyboxVersion } from '../../src/cluster/build/images.js';
import { KubeadmProvider } from '../../src/cluster/providers/kubeadm.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { mountsUnder } from '../../src/cluster/host/mounts.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { waitFor } from '../../src/exec/wait.js';

jest.setTimeout(60 * 60_000);

const root = resolve(__dirname, '../..');
const provider = new KubeadmProvider({ root });
const ns = `e2e-${process.pid}`;
let k: Kubectl;
let helper: string;



async function podPhase(name: string): Promise<string> {
  return (await k.run(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
}

beforeAll(async () => {
  await provider.create({ progress: new SilentProgress() });
  k = new Kubectl(provider.cache.binary('kubectl'), await provider.kubeconfig());
  helper = `stackport.local/busybox:${await busyboxVersion()}`;
  await k.run(['create', 'namespace', ns]);
});

afterAll(async () => {
  if (k) await probe([k.binary, '--kubeconfig', k.kubeconfig, 'delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

test('the node is Ready and runs the built release on our containerd', async () => {
  const nodes = await provider.nodes();
  expect(nodes).toHaveLength(1);
  expect(nodes[0]!.ready).toBe(true);
  expect(nodes[0]!.kubeletVersion).toBe('v1.34.4');
  expect(nodes[0]!.containerRuntime).toMatch(/^containerd:\/\/2\./);
  const status = await provider.status();
  expect(status.state).toBe('running');
  expect(await readFile(await provider.kubeconfig(), 'utf8')).toContain('certificate-authority-data');
});

test('a Pod runs from an image built locally (no registry)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stackport-e2e-image-'));
  try {
    const marker = `built-here-${Date.now()}`;
    const rootfs = join(dir, 'rootfs');
    await scratchRootfs(rootfs, { 'bin/busybox': '/bin/busybox' }, { 'bin/sh': 'busybox', 'bin/cat': 'busybox', 'bin/sleep': 'busybox' });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(rootfs, 'marker.txt'), `${marker}\n`);
    await layerFromDir(rootfs, join(dir, 'layer.tar'));
    const image = `stackport.local/e2e-marker:${process.pid}`;
    await writeImageArchive({ tags: [image], layers: [join(dir, 'layer.tar')], config: { Cmd: ['sh', '-c', 'cat /marker.txt; sleep 3600'] } }, join(dir, 'image.tar'));
    await provider.loadArchives([join(dir, 'image.tar')]);
    await k.run(['-n', ns, 'run', 'marker', `--image=${image}`, '--image-pull-policy=Never', '--restart=Never']);
    await waitFor('marker pod Running', async () => (await podPhase('marker')) === 'Running');
    const logs = await waitFor('marker log', async () => {
      const out = (await k.run(['-n', ns, 'logs', 'marker'])).stdout;
      return out.includes(marker) ? out : undefined;
    });
    expect(logs.trim()).toBe(marker);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a PVC of the default StorageClass binds and keeps data on the node', async () => {
  await k.apply(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: ${ns} }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 64Mi } }
---
apiVersion: v1
kind: Pod
metadata: { name: writer, namespace: ${ns} }
spec:
  restartPolicy: Never
  containers:
  - name: w
    image: ${helper}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo persisted > /data/file && cat /data/file']
    volumeMounts: [{ name: d, mountPath: /data }]
  volumes: [{ name: d, persistentVolumeClaim: { claimName: data } }]
`);
  await waitFor('writer Succeeded', async () => (await podPhase('writer')) === 'Succeeded');
  const phase = (await k.run(['-n', ns, 'get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}'])).stdout;
  expect(phase).toBe('Bound');
  const pv = (await k.run(['-n', ns, 'get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}'])).stdout;
  const path = (await k.run(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}{.spec.local.path}'])).stdout;
  expect(path.startsWith(HOST.localVolumes)).toBe(true);
  expect(await readFile(join(path, 'file'), 'utf8')).toBe('persisted\n');
});

test('a Service name resolves through CoreDNS from another Pod; NodePorts answer on the node, and 127.0.0.1:8090 reaches NodePort 30080', async () => {
  // NodePort 30080 is the provider's app entry. When an app (e.g. a migrated demo stack) already
  // holds it, this Service takes another NodePort and the entry is checked against that app.
  const services = (await k.run(['get', 'svc', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.spec.ports[*].nodePort}{"\\n"}{end}'])).stdout;
  const holder = services.split('\n').find((l) => l.split('=')[1]?.split(' ').includes('30080'))?.split('=')[0];
  await k.apply(`
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${ns}, labels: { app: web } }
spec:
  containers:
  - name: web
    image: ${helper}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www']
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080${holder ? '' : ', nodePort: 30080'} }]
`);
  await waitFor('web Running', async () => (await podPhase('web')) === 'Running');
  const clusterIp = (await k.run(['-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const fqdn = `web.${ns}.svc.cluster.local`;
  // busybox nslookup has its own resolver; then fetch through the resolved Service IP
  const script = `nslookup ${fqdn} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $(nslookup ${fqdn} | awk '/^Address/ {a=$NF} END {print a}') 80`;
  await k.run(['-n', ns, 'run', 'client', `--image=${helper}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', script]);
  await waitFor('client done', async () => ['Succeeded', 'Failed'].includes(await podPhase('client')));
  const out = (await k.run(['-n', ns, 'logs', 'client'])).stdout;
  expect(out).toContain(clusterIp);
  expect(out).toContain('hello-from-web');
  expect(await podPhase('client')).toBe('Succeeded');

  // the NodePort on the node's address, from the host
  const nodeIp = (await k.run(['get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'])).stdout.trim();
  const nodePort = (await k.run(['-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout.trim();
  const get = async (url: string) => {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return r.ok ? r.text() : undefined;
  };
  expect((await waitFor('the NodePort answers', () => get(`http://${nodeIp}:${nodePort}/`), 60_000)).trim()).toBe('hello-from-web');

  // the provider's app entry: 127.0.0.1:8090 on the host → NodePort 30080
  const body = await waitFor('entry answers', () => get(provider.entry()), 60_000);
  if (holder) {
    process.stderr.write(`[cluster e2e] NodePort 30080 is held by ${holder}: the entry is compared with it\n`);
    expect(body).toBe(await get(`http://${nodeIp}:30080/`));
  } else {
    expect(body.trim()).toBe('hello-from-web');
  }
});

/** Template matches CoreDNS counted (coredns_template_matches_total, every pod, through the API server's pod proxy). */
async function templateMatches(): Promise<number> {
  const pods = (await k.run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean);
  let n = 0;
  for (const pod of pods) {
    const metrics = (await k.run(['get', '--raw', `/api/v1/namespaces/kube-system/pods/${pod}:9153/proxy/metrics`])).stdout;
    for (const m of metrics.matchAll(/^coredns_template_matches_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  }
  return n;
}

test('a single-label name no Service has is answered NXDOMAIN by CoreDNS itself, at once, not forwarded to the host resolver', async () => {
  const corefile = (await k.run(['-n', 'kube-system', 'get', 'configmap', 'coredns', '-o', 'jsonpath={.data.Corefile}'])).stdout;
  expect(corefile).toContain('# stackport: single-label names stay in the cluster');
  const dnsIp = (await k.run(['-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  const name = `nosuchname${process.pid}`;
  const before = await templateMatches();
  // as a pod's resolver asks at the end of its search list: the bare name, rooted
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([dnsIp]);
  const t0 = Date.now();
  const answer = await r.resolve4(`${name}.`).catch((e: NodeJS.ErrnoException) => e.code);
  const ms = Date.now() - t0;
  expect(answer).toBe('ENOTFOUND');
  expect(ms).toBeLessThan(1000);
  // answered by the template rule (counted there), not by the upstream resolver
  expect(await templateMatches()).toBeGreaterThan(before);
  // and from a pod, through its resolv.conf (busybox nslookup): not found, quickly
  await k.run(['-n', ns, 'run', 'bare-name', `--image=${helper}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', `nslookup ${name}; echo exit=$?`]);
  await waitFor('bare-name done', async () => ['Succeeded', 'Failed'].includes(await podPhase('bare-name')));
  const out = (await k.run(['-n', ns, 'logs', 'bare-name'])).stdout;
  const ran = (await k.run(['-n', ns, 'get', 'pod', 'bare-name', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.startedAt} {.status.containerStatuses[0].state.terminated.finishedAt}'])).stdout.split(' ').map(Date.parse);
  const podMs = ran[1]! - ran[0]!;
  process.stderr.write(`[cluster e2e] ${name} from the host: NXDOMAIN in ${ms} ms; from a pod: ${out.trim().split('\n').slice(-2).join(' / ')}, container ran ${podMs} ms (whole seconds)\n`);
  expect(out).toMatch(/NXDOMAIN|can't find/);
  expect(out).toMatch(/exit=[1-9]/);
  expect(podMs).toBeLessThanOrEqual(2000);
});

test('a killed kubelet is restarted and the cluster recovers', async () => {
  const kubelet = provider.cache.binary('kubelet');
  const before = await readPid('kubelet');
  expect(before && isAlive(before)).toBe(true);
  process.kill(before!, 'SIGKILL');
  const after = await waitFor('a new kubelet', async () => {
    const p = await readPid('kubelet');
    return p && p !== before && isAlive(p) ? p : undefined;
  }, 60_000);
  expect((await readFile(`/proc/${after}/cmdline`, 'utf8')).split('\0')[0]).toBe(kubelet);
  await provider.waitReady(120_000);
  await k.run(['-n', ns, 'run', 'after-restart', `--image=${helper}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'true']);
  await waitFor('pod after restart', async () => (await podPhase('after-restart')) === 'Succeeded');
});

test('a second up is a fast no-op', async () => {
  const containerd = await readPid('containerd');
  const supervisor = await readPid('kubelet-supervisor');
  const started = Date.now();
  await provider.create({ progress: new SilentProgress() });
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(await readPid('containerd')).toBe(containerd);
  expect(await readPid('kubelet-supervisor')).toBe(supervisor);
  // the CLI: stdout is exactly the export line (progress goes to stderr), status says running
  const up = await run(['node', join(root, 'scripts', 'cluster.mjs'), 'up', '--provider', 'kubeadm'], { cwd: root, timeoutMs: 120_000 });
  expect(up.stdout).toBe(`export KUBECONFIG=${join(root, '.stackport', 'kubeconfig')}\n`);
  const status = await run(['node', join(root, 'scripts', 'cluster.mjs'), 'status', '--json'], { cwd: root, timeoutMs: 60_000 });
  const parsed = JSON.parse(status.stdout) as { state: string; nodes: { ready: boolean }[]; entry: string };
  expect(parsed.state).toBe('running');
  expect(parsed.nodes.map((n) => n.ready)).toEqual([true]);
  expect(parsed.entry).toBe('http://127.0.0.1:8090');
});

test('down leaves no process, mount, interface or rule behind', async () => {
  const pids = ['containerd', 'kubelet-supervisor', 'kubelet', 'entry-forward'];
  const running = (await Promise.all(pids.map(readPid))).filter((p): p is number => p !== undefined);
  expect(running.length).toBeGreaterThanOrEqual(4);
  await provider.delete({ progress: new SilentProgress() });
  for (const p of running) expect(isAlive(p)).toBe(false);
  expect(await ourShims()).toEqual([]);
  expect((await podProcesses()).filter(isAlive)).toEqual([]);
  expect(await mountsUnder(['/var/lib/kubelet', HOST.run, HOST.lib])).toEqual([]);
  expect((await probe(['ip', 'link', 'show', BRIDGE])).exitCode).not.toBe(0);
  const rules = (await run(['iptables-save'])).stdout;
  expect(rules).not.toMatch(/KUBE-|CNI-|STACKPORT-/);
  expect((await probe(['test', '-e', '/etc/kubernetes/manifests'])).exitCode).not.toBe(0);
  expect((await provider.status()).state).toBe('absent');
  // nothing answers on the app entry any more
  await expect(fetch(provider.entry(), { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});
