/**
 * Preflight for a cluster stackport did not make (the kubeconfig provider): everything that
 * would make a migration fail half-way is asked of the API server first, and every problem is
 * reported at once, one line each with what to do. Nothing in the namespace changes before
 * it passes (the pull test pod is the one exception, and it is removed again).
 *
 * - the API answers, within the supported skew of our kubectl (one minor either way);
 * - permissions: one SelfSubjectAccessReview per verb and resource that apply, prune, rollout,
 *   data move (exec), smoke (port-forward) and day two use, sent in one request;
 * - a default StorageClass, or the one `--storage-class` names;
 * - the namespace exists, or may be created;
 * - the registry is reachable from the nodes: a short pod runs an image from it.
 */
import { StackportError } from '../../errors.js';
import { waitFor } from '../../exec/wait.js';
import type { Kubectl } from '../kubectl.js';

export interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** name of one object (namespaces) */
  name?: string;
  /** cluster-scoped: no namespace in the review */
  cluster?: boolean;
  /** what needs it: apply, prune, rollout, data move, smoke, day two */
  why: string;
}

/** Kind → (API group, resource) for what the generator emits. */
export const KIND_RESOURCES: Record<string, [group: string, resource: string]> = {
  Deployment: ['apps', 'deployments'],
  StatefulSet: ['apps', 'statefulsets'],
  DaemonSet: ['apps', 'daemonsets'],
  Job: ['batch', 'jobs'],
  Service: ['', 'services'],
  ConfigMap: ['', 'configmaps'],
  Secret: ['', 'secrets'],
  ServiceAccount: ['', 'serviceaccounts'],
  PersistentVolumeClaim: ['', 'persistentvolumeclaims'],
  PodDisruptionBudget: ['policy', 'poddisruptionbudgets'],
  NetworkPolicy: ['networking.k8s.io', 'networkpolicies'],
  HorizontalPodAutoscaler: ['autoscaling', 'horizontalpodautoscalers'],
  Role: ['rbac.authorization.k8s.io', 'roles'],
  RoleBinding: ['rbac.authorization.k8s.io', 'rolebindings'],
  Ingress: ['networking.k8s.io', 'ingresses'],
};

/** The kinds migrate's prune step lists and deletes (src/migrate/migrate.ts PRUNE_KINDS). */
export const PRUNED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Service', 'ConfigMap', 'Job', 'PodDisruptionBudget', 'NetworkPolicy', 'HorizontalPodAutoscaler'];

export function resourceName(a: Pick<Access, 'group' | 'resource' | 'subresource'>): string {
  return `${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}`;
}

/** Every access a migration and day two need in `namespace`, for the kinds the manifests hold. */
export function requiredAccess(kinds: Iterable<string>, options: { data?: boolean; portForward?: boolean } = {}): Access[] {
  const out: Access[] = [];
  const add = (why: string, group: string, resource: string, verbs: string[], subresource?: string) => {
    for (const verb of verbs) out.push({ verb, group, resource, subresource, why });
  };
  // kinds without a known resource are the API server's to refuse at apply; none are emitted today
  for (const kind of [...new Set(kinds)].sort()) {
    const gr = KIND_RESOURCES[kind];
    if (!gr) continue;
    // server-side apply: GET, then PATCH (apply) which creates when absent
    add('apply', gr[0], gr[1], ['get', 'create', 'patch']);
  }
  for (const kind of PRUNED_KINDS) {
    const [g, r] = KIND_RESOURCES[kind]!;
    add('prune', g, r, ['list', 'delete']);
  }
  add('rollout', '', 'pods', ['get', 'list']);
  add('rollout', 'apps', 'replicasets', ['list']);
  if (options.data !== false) {
    add('data move', '', 'pods', ['create'], 'exec');
    // the copy's record (ConfigMap stackport-migration), server-side applied
    add('data move', '', 'configmaps', ['get', 'create', 'patch']);
  }
  if (options.portForward !== false) {
    add('smoke', '', 'pods', ['create'], 'portforward');
    add('smoke', '', 'services', ['get']);
  }
  add('day two', 'apps', 'deployments', ['patch', 'update'], 'scale');
  add('day two', 'apps', 'statefulsets', ['patch', 'update'], 'scale');
  add('day two', 'apps', 'deployments', ['patch']);
  add('day two', 'apps', 'controllerrevisions', ['list']);
  add('day two', 'autoscaling', 'horizontalpodautoscalers', ['get', 'patch']);
  add('registry pull test', '', 'pods', ['create', 'delete']);
  return dedupe(out);
}

function dedupe(list: Access[]): Access[] {
  const seen = new Map<string, Access>();
  for (const a of list) {
    const key = `${a.verb} ${resourceName(a)} ${a.name ?? ''}`;
    const prev = seen.get(key);
    if (prev) {
      if (!prev.why.split(', ').includes(a.why)) prev.why = `${prev.why}, ${a.why}`;
    } else seen.set(key, { ...a });
  }
  return [...seen.values()];
}

/** One SelfSubjectAccessReview per access, as a v1 List that `kubectl create -f -` sends in one go. */
export function accessReviews(access: Access[], namespace: string): object {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: access.map((a) => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          ...(a.cluster ? {} : { namespace }),
          verb: a.verb,
          group: a.group,
          resource: a.resource,
          ...(a.subresource ? { subresource: a.subresource } : {}),
          ...(a.name ? { name: a.name } : {}),
        },
      },
    })),
  };
}

interface ReviewResult {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** The accesses the reviews did not allow, in order. */
export function deniedAccess(access: Access[], results: ReviewResult[]): Access[] {
  if (results.length !== access.length) throw new StackportError(`the API answered ${results.length} access reviews for ${access.length} asked`);
  return access.filter((_, i) => results[i]?.status?.allowed !== true);
}

/**
 * `kubectl create -o json` of several objects prints one JSON document per object, one after the
 * other (a List only when the input was read as one); both are read here.
 */
export function reviewResults(stdout: string): ReviewResult[] {
  const out: ReviewResult[] = [];
  for (const doc of jsonStream(stdout)) {
    const parsed = doc as { kind?: string; items?: ReviewResult[] } & ReviewResult;
    if (parsed.kind === 'List') out.push(...(parsed.items ?? []));
    else out.push(parsed);
  }
  return out;
}

/** Concatenated JSON values (`{...}{...}` or one per line). */
export function jsonStream(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' || ch === ']') {
      if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}

/** Groups missing accesses by resource: `create, patch deployments.apps (apply)`. */
export function formatDenied(denied: Access[], namespace: string): string[] {
  const byResource = new Map<string, { verbs: string[]; why: Set<string>; cluster: boolean }>();
  for (const a of denied) {
    const key = resourceName(a) + (a.name ? ` ${a.name}` : '');
    const e = byResource.get(key) ?? { verbs: [], why: new Set<string>(), cluster: Boolean(a.cluster) };
    e.verbs.push(a.verb);
    for (const w of a.why.split(', ')) e.why.add(w);
    byResource.set(key, e);
  }
  return [...byResource].map(
    ([res, e]) => `permission missing: ${e.verbs.join(', ')} ${res}${e.cluster ? ' (cluster-wide)' : ` in namespace ${namespace}`}, needed for ${[...e.why].join(', ')}`,
  );
}

export interface Version {
  major: number;
  minor: number;
  gitVersion: string;
}

export function parseVersion(v: { major?: string; minor?: string; gitVersion?: string } | undefined): Version | undefined {
  if (!v?.gitVersion) return undefined;
  const m = /^v?(\d+)\.(\d+)/.exec(v.gitVersion);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), gitVersion: v.gitVersion };
}

/** kubectl supports one minor version older or newer than the API server. */
export function skewProblem(client: Version, server: Version, kubectlPath: string): string | undefined {
  if (client.major === server.major && Math.abs(client.minor - server.minor) <= 1) return undefined;
  return `version skew: the API server is ${server.gitVersion} and our kubectl (${kubectlPath}) is ${client.gitVersion}; kubectl supports one minor version either way: set STACKPORT_KUBECTL to a kubectl ${server.major}.${server.minor - 1}..${server.major}.${server.minor + 1}`;
}

interface StorageClass {
  metadata: { name: string; annotations?: Record<string, string> };
}

export function defaultStorageClass(items: StorageClass[]): string | undefined {
  return items.find((s) => s.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')?.metadata.name;
}

export interface PreflightOptions {
  namespace: string;
  /** kinds of the manifests to apply (kind names) */
  kinds: Iterable<string>;
  storageClass?: string;
  /** needs PVCs (a StatefulSet with volume claims): then a StorageClass must exist */
  needsStorage?: boolean;
  data?: boolean;
  portForward?: boolean;
  /** an image in the registry to run in the pull test pod; omitted: no pull test */
  pullTestImage?: string;
  pullTimeoutMs?: number;
}

export interface PreflightResult {
  serverVersion?: string;
  checked: number;
  namespaceExists: boolean;
  storageClass?: string;
  problems: string[];
  notes: string[];
}

/** Runs every check, collects the problems; does not throw for them (see assertPreflight). */
export async function preflight(kubectl: Kubectl, o: PreflightOptions): Promise<PreflightResult> {
  const res: PreflightResult = { checked: 0, namespaceExists: false, problems: [], notes: [] };
  const where = `the API server of ${kubectl.kubeconfig}`;
  // 1. the API and the skew
  let versions: { clientVersion?: Record<string, string>; serverVersion?: Record<string, string> };
  try {
    versions = JSON.parse((await kubectl.run(['version', '-o', 'json'], { timeoutMs: 20_000 })).stdout);
  } catch (e) {
    const first = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').at(-1);
    res.problems.push(`${where} does not answer (${first}): check the kubeconfig's server address, the context (--context) and the credentials`);
    return res;
  }
  const client = parseVersion(versions.clientVersion);
  const server = parseVersion(versions.serverVersion);
  res.serverVersion = server?.gitVersion;
  if (client && server) {
    const p = skewProblem(client, server, kubectl.binary);
    if (p) res.problems.push(p);
  }
  // 2. the namespace: exists, or may be created
  const nsGet = await kubectl.run(['get', 'namespace', o.namespace, '-o', 'name', '--ignore-not-found'], { timeoutMs: 20_000 }).then(
    (r) => (r.stdout.trim() ? 'exists' : 'absent'),
    (e: { stderr?: string }) => (/forbidden/i.test(e.stderr ?? '') ? 'forbidden' : 'absent'),
  );
  const access = requiredAccess(o.kinds, { data: o.data, portForward: o.portForward });
  if (nsGet === 'exists') res.namespaceExists = true;
  else access.push({ verb: 'create', group: '', resource: 'namespaces', cluster: true, why: `creating namespace ${o.namespace}` });
  if (nsGet === 'forbidden') res.notes.push(`namespace ${o.namespace} cannot be read with these credentials; assuming it must be created`);
  // 3. permissions, in one request
  const reviews = await kubectl.run(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify(accessReviews(access, o.namespace)), what: 'SelfSubjectAccessReviews', timeoutMs: 30_000 });
  const denied = deniedAccess(access, reviewResults(reviews.stdout));
  res.checked = access.length;
  if (nsGet !== 'exists' && denied.some((a) => a.resource === 'namespaces')) {
    res.problems.push(`namespace ${o.namespace} does not exist and these credentials may not create it: ask an admin to create it (kubectl create namespace ${o.namespace}) or pick another with --namespace`);
  }
  res.problems.push(...formatDenied(denied.filter((a) => a.resource !== 'namespaces'), o.namespace));
  // 4. storage
  if (o.needsStorage) {
    if (o.storageClass) {
      const sc = await kubectl.run(['get', 'storageclass', o.storageClass, '-o', 'name'], { timeoutMs: 20_000 }).then(
        () => 'ok',
        (e: { stderr?: string }) => (/forbidden/i.test(e.stderr ?? '') ? 'forbidden' : 'missing'),
      );
      if (sc === 'missing') res.problems.push(`StorageClass ${o.storageClass} (--storage-class) does not exist: pick one of \`kubectl get storageclass\``);
      if (sc === 'forbidden') res.notes.push(`StorageClass ${o.storageClass} cannot be read with these credentials; trusting --storage-class`);
      res.storageClass = o.storageClass;
    } else {
      const list = await kubectl.json<{ items: StorageClass[] }>(['get', 'storageclass']).catch((e: { stderr?: string }) => (/forbidden/i.test(e.stderr ?? '') ? ('forbidden' as const) : ({ items: [] } as { items: StorageClass[] })));
      if (list === 'forbidden') res.problems.push('StorageClasses cannot be listed with these credentials, so the default one is unknown: name one with --storage-class NAME');
      else {
        res.storageClass = defaultStorageClass(list.items);
        if (!res.storageClass) res.problems.push(`the cluster has no default StorageClass${list.items.length ? ` (it has ${list.items.map((s) => s.metadata.name).join(', ')})` : ''}: name one with --storage-class NAME`);
      }
    }
  }
  // 5. the registry, from the nodes: only when the namespace exists and pods may be created
  if (o.pullTestImage && res.namespaceExists && !denied.some((a) => a.resource === 'pods' && !a.subresource && a.verb === 'create')) {
    const p = await pullTest(kubectl, o.namespace, o.pullTestImage, o.pullTimeoutMs ?? 120_000);
    if (p) res.problems.push(p);
  } else if (o.pullTestImage && !res.namespaceExists) {
    res.notes.push('registry pull test skipped: the namespace does not exist yet');
  }
  return res;
}

export const PULL_TEST_POD = 'stackport-pull-test';

/** A pod that only pulls and exits; the node's pull error when it cannot. Removed afterwards. */
export async function pullTest(kubectl: Kubectl, namespace: string, image: string, timeoutMs: number): Promise<string | undefined> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: PULL_TEST_POD, namespace, labels: { 'app.kubernetes.io/managed-by': 'stackport-preflight' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      containers: [{ name: 'pull', image, imagePullPolicy: 'Always', command: ['sh', '-c', 'exit 0'], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } } }],
    },
  };
  const del = () => kubectl.run(['delete', 'pod', PULL_TEST_POD, '-n', namespace, '--ignore-not-found', '--wait=false'], { timeoutMs: 30_000 });
  await del();
  await kubectl.run(['wait', '--for=delete', `pod/${PULL_TEST_POD}`, '-n', namespace, '--timeout=60s'], { timeoutMs: 70_000 }).catch(() => undefined);
  await kubectl.run(['create', '-f', '-'], { input: JSON.stringify(pod), timeoutMs: 30_000 });
  type P = { status?: { phase?: string; containerStatuses?: { imageID?: string; state?: Record<string, { reason?: string; message?: string }> }[] } };
  const failed = (w: { reason?: string; message?: string }) =>
    `the nodes cannot pull ${image} (${w.reason}: ${(w.message ?? '').slice(0, 200)}): make the registry reachable from the nodes (their containerd needs a hosts.toml for plain HTTP; see docs/your-cluster.md) or name another with --registry`;
  let last = 'no status';
  try {
    return await waitFor(
      `the registry pull test pod ${PULL_TEST_POD}`,
      async () => {
        const p = await kubectl.json<P>(['get', 'pod', PULL_TEST_POD, '-n', namespace]);
        const cs = p.status?.containerStatuses?.[0];
        const waiting = cs?.state?.waiting;
        last = waiting?.reason ?? p.status?.phase ?? 'no status';
        if (cs?.imageID || p.status?.phase === 'Succeeded' || p.status?.phase === 'Running') return { problem: undefined };
        if (waiting && /ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull/.test(waiting.reason ?? '')) return { problem: failed(waiting) };
        return undefined;
      },
      { timeoutMs, intervalMs: 500 },
    ).then((r) => r.problem);
  } catch {
    return `the registry pull test pod did not start within ${Math.round(timeoutMs / 1000)} s (${last}): check the nodes and the registry`;
  } finally {
    await del().catch(() => undefined);
  }
}

/** Throws one error listing every problem (exit 2: nothing was changed). */
export function assertPreflight(r: PreflightResult, context: string): void {
  if (!r.problems.length) return;
  throw new StackportError(`preflight of ${context} found ${r.problems.length} problem(s); nothing was changed:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`, {
    hint: 'fix each line above, then run again',
    exitCode: 2,
  });
}
