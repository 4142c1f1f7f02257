/**
 * preflight() as a whole, against a scripted kubectl (the command seam of DESIGN.md): which
 * questions it asks the API server, and that every problem comes back at once, one line each.
 * The real API server answers the same questions in tests/e2e/kubeconfig-provider.test.ts.
 */
import { CommandError, type CommandResult } from '../../src/errors.js';
import { Kubectl } from '../../src/cluster/kubectl.js';
import { preflight, resourceName, type Access } from '../../src/cluster/providers/preflight.js';
import type { RunOptions } from '../../src/exec/run.js';

interface Script {
  version?: { client: string; server: string } | 'down';
  namespace: 'exists' | 'absent' | 'forbidden';
  /** resources denied, as `verb resource` (resourceName form) */
  deny?: string[];
  storageClasses?: { name: string; default?: boolean }[] | 'forbidden';
}

class ScriptedKubectl extends Kubectl {
  readonly asked: string[][] = [];
  reviews: { spec: { resourceAttributes: Access & { namespace?: string } } }[] = [];
  constructor(private readonly s: Script) {
    super('kubectl', '/tmp/kc');
  }
  private result(argv: string[], stdout: string, exitCode = 0, stderr = ''): CommandResult {
    const r = { argv, exitCode, signal: null, stdout, stderr, durationMs: 1 };
    if (exitCode !== 0) throw new CommandError(r, {});
    return r;
  }
  override async run(args: string[], options: RunOptions = {}): Promise<CommandResult> {
    this.asked.push(args);
    const [verb, what] = args;
    if (verb === 'version') {
      if (this.s.version === 'down') return this.result(args, '', 1, 'Unable to connect to the server: dial tcp 10.0.0.1:6443: connect: connection refused');
      const v = this.s.version ?? { client: 'v1.34.4', server: 'v1.34.4' };
      return this.result(args, JSON.stringify({ clientVersion: { gitVersion: v.client }, serverVersion: { gitVersion: v.server } }));
    }
    if (verb === 'get' && what === 'namespace') {
      if (this.s.namespace === 'forbidden') return this.result(args, '', 1, 'Error from server (Forbidden): namespaces "x" is forbidden');
      return this.result(args, this.s.namespace === 'exists' ? 'namespace/x\n' : '');
    }
    if (verb === 'create' && what === '-f') {
      const list = JSON.parse(String(options.input)) as { items: ScriptedKubectl['reviews'] };
      this.reviews = list.items;
      const deny = new Set(this.s.deny ?? []);
      const items = list.items.map((i) => ({ status: { allowed: !deny.has(`${i.spec.resourceAttributes.verb} ${resourceName(i.spec.resourceAttributes)}`) } }));
      return this.result(args, JSON.stringify({ kind: 'List', items }));
    }
    if (verb === 'get' && what === 'storageclass') {
      const sc = this.s.storageClasses ?? [];
      if (sc === 'forbidden') return this.result(args, '', 1, 'Error from server (Forbidden): storageclasses.storage.k8s.io is forbidden');
      const items = sc.map((c) => ({ metadata: { name: c.name, annotations: c.default ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} } }));
      if (args[2] && !args[2].startsWith('-')) return sc.some((c) => c.name === args[2]) ? this.result(args, `storageclass/${args[2]}`) : this.result(args, '', 1, 'NotFound');
      return this.result(args, JSON.stringify({ items }));
    }
    throw new Error(`unexpected kubectl ${args.join(' ')}`);
  }
}

const kinds = ['Deployment', 'StatefulSet', 'Service', 'Secret'];

test('a cluster that allows everything passes, with every review sent in one request', async () => {
  const k = new ScriptedKubectl({ namespace: 'exists', storageClasses: [{ name: 'local-path', default: true }] });
  const r = await preflight(k, { namespace: 'x', kinds, needsStorage: true });
  expect(r.problems).toEqual([]);
  expect(r.storageClass).toBe('local-path');
  expect(r.namespaceExists).toBe(true);
  expect(k.asked.filter((a) => a[0] === 'create')).toHaveLength(1);
  expect(r.checked).toBe(k.reviews.length);
  expect(k.reviews.every((i) => i.spec.resourceAttributes.namespace === 'x')).toBe(true);
});

test('every problem at once: skew, namespace not creatable, permissions, no default StorageClass', async () => {
  const k = new ScriptedKubectl({
    version: { client: 'v1.32.4', server: 'v1.34.4' },
    namespace: 'absent',
    deny: ['create namespaces', 'create pods/exec', 'delete networkpolicies.networking.k8s.io'],
    storageClasses: [{ name: 'slow' }],
  });
  const r = await preflight(k, { namespace: 'x', kinds, needsStorage: true });
  expect(r.problems).toEqual([
    expect.stringMatching(/^version skew: the API server is v1.34.4 and our kubectl \(kubectl\) is v1.32.4/),
    'namespace x does not exist and these credentials may not create it: ask an admin to create it (kubectl create namespace x) or pick another with --namespace',
    'permission missing: delete networkpolicies.networking.k8s.io in namespace x, needed for prune',
    'permission missing: create pods/exec in namespace x, needed for data move',
    'the cluster has no default StorageClass (it has slow): name one with --storage-class NAME',
  ]);
  // the namespace review is cluster-wide
  expect(k.reviews.find((i) => i.spec.resourceAttributes.resource === 'namespaces')?.spec.resourceAttributes.namespace).toBeUndefined();
});

test('an API server that does not answer is one line, and nothing else is asked', async () => {
  const k = new ScriptedKubectl({ version: 'down', namespace: 'exists' });
  const r = await preflight(k, { namespace: 'x', kinds });
  expect(r.problems).toEqual([
    'the API server of /tmp/kc does not answer (Unable to connect to the server: dial tcp 10.0.0.1:6443: connect: connection refused): check the kubeconfig\'s server address, the context (--context) and the credentials',
  ]);
  expect(k.asked).toHaveLength(1);
});

test('StorageClasses hidden from a namespace account: --storage-class is trusted, else asked for', async () => {
  const without = await preflight(new ScriptedKubectl({ namespace: 'exists', storageClasses: 'forbidden' }), { namespace: 'x', kinds, needsStorage: true });
  expect(without.problems).toEqual(['StorageClasses cannot be listed with these credentials, so the default one is unknown: name one with --storage-class NAME']);
  const named = await preflight(new ScriptedKubectl({ namespace: 'exists', storageClasses: [{ name: 'fast' }] }), { namespace: 'x', kinds, needsStorage: true, storageClass: 'fast' });
  expect(named.problems).toEqual([]);
  const missing = await preflight(new ScriptedKubectl({ namespace: 'exists', storageClasses: [{ name: 'fast' }] }), { namespace: 'x', kinds, needsStorage: true, storageClass: 'fsat' });
  expect(missing.problems).toEqual(['StorageClass fsat (--storage-class) does not exist: pick one of `kubectl get storageclass`']);
});

test('a namespace that may be created is no problem, and the pull test waits for it', async () => {
  const r = await preflight(new ScriptedKubectl({ namespace: 'absent' }), { namespace: 'new', kinds, pullTestImage: 'localhost:5001/x@sha256:1' });
  expect(r.problems).toEqual([]);
  expect(r.namespaceExists).toBe(false);
  expect(r.notes).toEqual(['registry pull test skipped: the namespace does not exist yet']);
});
