import { parseAllDocuments } from 'yaml';
import { StackportError } from '../../src/errors.js';
import {
  accessReviews,
  assertPreflight,
  defaultStorageClass,
  deniedAccess,
  formatDenied,
  parseVersion,
  requiredAccess,
  resourceName,
  reviewResults,
  skewProblem,
} from '../../src/cluster/providers/preflight.js';
import { hostsToml, localRegistryHostingConfigMap, parseRegistry, pushedDigest, registryRepository } from '../../src/cluster/addons/registry.js';
import { forwardingPort } from '../../src/cluster/providers/port-forward.js';
import { pinImages, setStorageClass } from '../../src/migrate/image-stamp.js';
import { remoteOptions } from '../../src/cluster/providers/kubeconfig.js';
import { parseArgs as clusterArgs } from '../../src/cluster/command.js';

const DEMO_KINDS = ['Deployment', 'StatefulSet', 'Service', 'Secret', 'NetworkPolicy', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'];

describe('requiredAccess', () => {
  const access = requiredAccess(DEMO_KINDS);
  const has = (verb: string, res: string) => access.some((a) => a.verb === verb && resourceName(a) === res);

  it('asks for what apply, prune, rollout, data move, smoke and day two do', () => {
    expect(has('patch', 'deployments.apps')).toBe(true); // server-side apply
    expect(has('create', 'secrets')).toBe(true);
    expect(has('delete', 'networkpolicies.networking.k8s.io')).toBe(true); // prune
    expect(has('list', 'pods')).toBe(true); // rollout
    expect(has('create', 'pods/exec')).toBe(true); // data move
    expect(has('create', 'pods/portforward')).toBe(true); // smoke
    expect(has('patch', 'deployments/scale.apps')).toBe(true); // day two
    expect(has('list', 'controllerrevisions.apps')).toBe(true); // rollback of a StatefulSet
  });

  it('lists each verb and resource once, with every reason', () => {
    const keys = access.map((a) => `${a.verb} ${resourceName(a)}`);
    expect(new Set(keys).size).toBe(keys.length);
    const patchDeploy = access.find((a) => a.verb === 'patch' && resourceName(a) === 'deployments.apps')!;
    expect(patchDeploy.why).toBe('apply, day two');
  });

  it('leaves out exec and port-forward when neither data nor smoke needs them', () => {
    const a = requiredAccess(DEMO_KINDS, { data: false, portForward: false });
    expect(a.some((x) => x.subresource === 'exec' || x.subresource === 'portforward')).toBe(false);
  });
});

describe('access reviews', () => {
  const access = requiredAccess(['Deployment']);

  it('builds one SelfSubjectAccessReview per access, namespaced unless cluster-wide', () => {
    const list = accessReviews([...access, { verb: 'create', group: '', resource: 'namespaces', cluster: true, why: 'x' }], 'sp-remote-a') as {
      items: { kind: string; spec: { resourceAttributes: Record<string, string> } }[];
    };
    expect(list.items).toHaveLength(access.length + 1);
    expect(list.items.every((i) => i.kind === 'SelfSubjectAccessReview')).toBe(true);
    expect(list.items[0]!.spec.resourceAttributes).toMatchObject({ namespace: 'sp-remote-a', verb: 'get', group: 'apps', resource: 'deployments' });
    expect(list.items.at(-1)!.spec.resourceAttributes.namespace).toBeUndefined();
    const exec = list.items.find((i) => i.spec.resourceAttributes.subresource === 'exec');
    expect(exec?.spec.resourceAttributes).toMatchObject({ verb: 'create', resource: 'pods' });
  });

  it('names what was denied, grouped by resource, all at once', () => {
    const results = access.map((a) => ({ status: { allowed: !(a.subresource === 'exec' || a.subresource === 'portforward') } }));
    const denied = deniedAccess(access, results);
    expect(denied.map((a) => resourceName(a))).toEqual(['pods/exec', 'pods/portforward']);
    expect(formatDenied(denied, 'ns1')).toEqual([
      'permission missing: create pods/exec in namespace ns1, needed for data move',
      'permission missing: create pods/portforward in namespace ns1, needed for smoke',
    ]);
  });

  it('reads the List kubectl prints, or a single review', () => {
    expect(reviewResults(JSON.stringify({ kind: 'List', items: [{ status: { allowed: true } }, { status: { allowed: false } }] }))).toHaveLength(2);
    expect(reviewResults(JSON.stringify({ kind: 'SelfSubjectAccessReview', status: { allowed: true } }))).toEqual([{ kind: 'SelfSubjectAccessReview', status: { allowed: true } }]);
  });

  it('refuses an answer that does not match the question', () => {
    expect(() => deniedAccess(access, [])).toThrow(/answered 0 access reviews/);
  });

  it('fails with every problem in one error, exit 2', () => {
    let err: StackportError | undefined;
    try {
      assertPreflight({ checked: 3, namespaceExists: true, problems: ['a', 'b'], notes: [] }, 'cfg');
    } catch (e) {
      err = e as StackportError;
    }
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toBe('preflight of cfg found 2 problem(s); nothing was changed:\n  - a\n  - b');
    expect(() => assertPreflight({ checked: 3, namespaceExists: true, problems: [], notes: [] }, 'cfg')).not.toThrow();
  });
});

describe('version skew', () => {
  const v = (s: string) => parseVersion({ gitVersion: s })!;
  it('allows one minor either way', () => {
    expect(skewProblem(v('v1.34.4'), v('v1.35.0'), 'kubectl')).toBeUndefined();
    expect(skewProblem(v('v1.34.4'), v('v1.33.2-eks-1'), 'kubectl')).toBeUndefined();
  });
  it('names both versions and what to do beyond that', () => {
    expect(skewProblem(v('v1.32.4'), v('v1.34.4'), '/usr/bin/kubectl')).toBe(
      'version skew: the API server is v1.34.4 and our kubectl (/usr/bin/kubectl) is v1.32.4; kubectl supports one minor version either way: set STACKPORT_KUBECTL to a kubectl 1.33..1.35',
    );
  });
  it('reads no version from nonsense', () => {
    expect(parseVersion({ gitVersion: 'dev' })).toBeUndefined();
    expect(parseVersion(undefined)).toBeUndefined();
  });
});

it('finds the default StorageClass by its annotation', () => {
  const sc = (name: string, def?: string) => ({ metadata: { name, annotations: (def ? { 'storageclass.kubernetes.io/is-default-class': def } : {}) as Record<string, string> } });
  expect(defaultStorageClass([sc('slow'), sc('local-path', 'true')])).toBe('local-path');
  expect(defaultStorageClass([sc('slow', 'false')])).toBeUndefined();
});

describe('--registry', () => {
  it('takes host[:port][/prefix]', () => {
    expect(parseRegistry('localhost:5001')).toEqual({ host: 'localhost:5001', prefix: '' });
    expect(parseRegistry('Registry.Example.com/team/apps/')).toEqual({ host: 'registry.example.com', prefix: 'team/apps' });
    expect(parseRegistry('http://10.0.0.5:5000')).toEqual({ host: '10.0.0.5:5000', prefix: '' });
  });
  it.each([
    ['', 'not a registry host'],
    ['reg istry', 'not a registry host'],
    ['host:99999', 'port 99999 is out of range'],
    ['host/Team', '"Team" is not a valid repository path component'],
  ])('refuses %j with one line, exit 2', (spec, why) => {
    let err: StackportError | undefined;
    try {
      parseRegistry(spec);
    } catch (e) {
      err = e as StackportError;
    }
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toContain(why);
    expect(err?.message).not.toContain('\n');
  });
  it('maps engine images to repositories under the registry, dropping their own host', () => {
    const r = parseRegistry('localhost:5001/sp');
    expect(registryRepository('stackport-web:1', r)).toEqual({ repository: 'localhost:5001/sp/stackport-web', tag: '1' });
    expect(registryRepository('stackport/postgres:15-bookworm', r)).toEqual({ repository: 'localhost:5001/sp/stackport/postgres', tag: '15-bookworm' });
    expect(registryRepository('docker.io/library/nginx', r)).toEqual({ repository: 'localhost:5001/sp/library/nginx', tag: 'latest' });
    expect(registryRepository('localhost:5000/x:2', r)).toEqual({ repository: 'localhost:5001/sp/x', tag: '2' });
  });
  it('reads the digest docker push reports', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(pushedDigest(`abc: Layer already exists\n1: digest: ${d} size: 1570\n`)).toBe(d);
    expect(pushedDigest('error')).toBeUndefined();
  });
  it('writes hosts.toml and the KEP-1755 ConfigMap', () => {
    expect(hostsToml('localhost:5001', 'http://stackport-registry:5000')).toContain('server = "http://stackport-registry:5000"\n\n[host."http://stackport-registry:5000"]');
    const cm = localRegistryHostingConfigMap('localhost:5001', 'stackport-registry:5000') as { metadata: { namespace: string }; data: Record<string, string> };
    expect(cm.metadata.namespace).toBe('kube-public');
    expect(cm.data['localRegistryHosting.v1']).toMatch(/^host: "localhost:5001"\nhostFromContainerRuntime: "stackport-registry:5000"\n/);
  });
});

describe('applied stream with a registry', () => {
  const rendered = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: wait
          image: stackport-api:1
      containers:
        - name: web
          image: stackport-web:1
        - name: side
          image: other:3
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  template:
    spec:
      containers:
        - name: db
          image: stackport/postgres:15-bookworm
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
`;
  const docs = (t: string) => parseAllDocuments(t).map((d) => d.toJS());

  it('names pushed images by digest and leaves the others', () => {
    const refs = { 'stackport-web:1': 'localhost:5001/stackport-web@sha256:1', 'stackport-api:1': 'localhost:5001/stackport-api@sha256:2' };
    const [web] = docs(pinImages(rendered, refs));
    expect(web.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual(['localhost:5001/stackport-web@sha256:1', 'other:3']);
    expect(web.spec.template.spec.initContainers[0].image).toBe('localhost:5001/stackport-api@sha256:2');
  });

  it('is stable: the same digests give the same stream (nothing rolls)', () => {
    const refs = { 'stackport-web:1': 'r/web@sha256:1' };
    expect(pinImages(rendered, refs)).toBe(pinImages(rendered, refs));
    expect(pinImages(rendered, refs)).not.toBe(pinImages(rendered, { 'stackport-web:1': 'r/web@sha256:2' }));
  });

  it('sets --storage-class on volume claim templates', () => {
    const [, db] = docs(setStorageClass(rendered, 'fast'));
    expect(db.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast' });
  });
});

it('reads the port kubectl port-forward listens on', () => {
  expect(forwardingPort('Forwarding from 127.0.0.1:41234 -> 80\n')).toBe(41234);
  expect(forwardingPort('error: unable to forward')).toBeUndefined();
});

describe('flags for an existing cluster', () => {
  it('takes kubeconfig, context, namespace, entry URL and registry', () => {
    expect(remoteOptions({ kubeconfig: '/k', context: 'c', namespace: 'sp-remote-a', 'entry-url': 'http://app.example/', registry: 'localhost:5001' })).toEqual({
      kubeconfig: '/k',
      context: 'c',
      namespace: 'sp-remote-a',
      entryUrl: 'http://app.example',
      registry: { host: 'localhost:5001', prefix: '' },
    });
    expect(remoteOptions({})).toBeUndefined();
  });
  it('refuses a bad namespace or entry URL with exit 2', () => {
    expect(() => remoteOptions({ namespace: 'Bad_NS' })).toThrow(/not a valid namespace name/);
    expect(() => remoteOptions({ 'entry-url': 'app.example' })).toThrow(/not an http\(s\) URL/);
  });
  it('cluster.mjs: --kubeconfig picks the kubeconfig provider; registry takes up|down|status', () => {
    expect(clusterArgs(['status', '--kubeconfig', '/k', '--namespace', 'n'])).toMatchObject({ action: 'status', provider: 'kubeconfig', remote: { kubeconfig: '/k', namespace: 'n' } });
    expect(clusterArgs(['registry', 'down', '--purge'])).toMatchObject({ action: 'registry', sub: 'down', remote: { purge: 'yes' } });
    expect(() => clusterArgs(['registry', 'start'])).toThrow(/expected up, down or status/);
  });
});

describe('kind config with the registry patch', () => {
  it('adds containerd certs.d to a config that has none, keeping its nodes', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { withRegistryPatch } = await import('../../src/cluster/addons/registry.js');
    const cfg = parse(withRegistryPatch(readFileSync(`${__dirname}/../../kind/multi-node.yaml`, 'utf8')));
    expect(cfg.nodes).toHaveLength(3);
    expect(cfg.containerdConfigPatches).toEqual(['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"']);
    const twice = withRegistryPatch(withRegistryPatch('kind: Cluster\n'));
    expect(parse(twice).containerdConfigPatches).toHaveLength(1);
    const merged = parse(withRegistryPatch('kind: Cluster\ncontainerdConfigPatches:\n  - |-\n    [x]\n'));
    expect(merged.containerdConfigPatches).toHaveLength(2);
  });
});

it('stages a cluster that is not local as the base (no NodePort entry) in the namespace', async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const { join } = await import('node:path');
  const { remoteKustomization } = await import('../../src/migrate/migrate.js');
  const dir = mkdtempSync(join(os.tmpdir(), 'sp-remote-stage-'));
  writeFileSync(join(dir, 'kustomization.yaml'), '# Staged\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - overlays/kubeadm\nimages:\n  - name: postgres\n    newName: stackport/postgres\n');
  remoteKustomization(dir, 'sp-remote-a');
  const { parse } = await import('yaml');
  expect(parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))).toEqual({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: 'sp-remote-a',
    resources: ['base'],
    images: [{ name: 'postgres', newName: 'stackport/postgres' }],
  });
});

it('reads the reviews kubectl create prints one after the other', () => {
  const { reviewResults: read } = jest.requireActual('../../src/cluster/providers/preflight.js') as typeof import('../../src/cluster/providers/preflight.js');
  const a = JSON.stringify({ kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'x"}{' } }, status: { allowed: true } }, null, 4);
  const b = JSON.stringify({ kind: 'SelfSubjectAccessReview', status: { allowed: false, reason: 'no \\"rule\\"' } }, null, 4);
  expect(read(`${a}\n${b}\n`).map((r) => r.status?.allowed)).toEqual([true, false]);
});
