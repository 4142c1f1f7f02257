/**
 * Every generated tree against a real API server: each Compose project of the corpus
 * (tests/corpus/<name>/, run with its args.json: files, env files, profiles, project directory and
 * name, variables) and each valid golden fixture (tests/golden/fixtures/<name>/, not bad-*, with its
 * `args`), rendered as tests/golden/trees.ts renders them (`generate -o <tmp>` as a user runs it),
 * then `kubectl kustomize <tmp>` and `kubectl apply -k <tmp> --dry-run=server`: the tree is taken as
 * it is (secret files included) and the API server admits every object. A corpus project refused at
 * load fails (tests/golden/corpus-trees.test.ts checks that without a cluster). Needs the kubeadm
 * cluster up (`make cluster-up`); this test never creates or changes it: it creates one namespace
 * per project, labelled stackport-test=generated-trees, and deletes them after.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { probe, run } from '../../src/exec/run.js';
import { waitFor } from '../../src/exec/wait.js';
import { dnsLabel } from '../../src/k8s/names.js';
import { corpusSources, goldenSources, renderTree } from '../golden/trees.js';

jest.setTimeout(30 * 60_000);

const ROOT = path.resolve(__dirname, '../..');
const LABEL = 'stackport-test=generated-trees';
const KUBECONFIG = process.env.KUBECONFIG ?? (existsSync(path.join(ROOT, '.stackport/kubeconfig')) ? path.join(ROOT, '.stackport/kubeconfig') : '/etc/kubernetes/admin.conf');
const KUBECTL = [path.join(os.homedir(), '.cache/stackport/kubeadm-v1.34.4/bin/kubectl'), '/usr/bin/kubectl'].find((k) => existsSync(k)) ?? 'kubectl';

const corpus = corpusSources();
const projects = [...corpus, ...goldenSources()];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stackport-generated-trees-'));
const namespaces: string[] = [];
const kubectl = (args: string[], what?: string) => run([KUBECTL, '--kubeconfig', KUBECONFIG, ...args], { what: what ?? `kubectl ${args.join(' ')}`, timeoutMs: 180_000 });

/** Namespaces this test made, by label: also those a killed earlier run left. */
async function deleteOurNamespaces(): Promise<void> {
  await probe([KUBECTL, '--kubeconfig', KUBECONFIG, 'delete', 'namespace', '-l', LABEL, '--wait=false']);
}

beforeAll(async () => {
  await waitFor('the API server to answer /readyz (this test needs the cluster up: make cluster-up)', async () => (await kubectl(['get', '--raw', '/readyz'])).stdout.trim() === 'ok', { timeoutMs: 60_000, intervalMs: 2000 });
  await deleteOurNamespaces();
});

afterAll(async () => {
  await deleteOurNamespaces();
  rmSync(tmp, { recursive: true, force: true });
});

const results: { name: string; objects: number; kinds: Set<string> }[] = [];

test('there is something to check', () => {
  expect(corpus.length).toBeGreaterThanOrEqual(50);
  expect(projects.length - corpus.length).toBeGreaterThanOrEqual(15);
});

describe('every generated tree: kubectl kustomize, then the API server admits every object (dry-run=server)', () => {
  test.each(projects.map((p) => [p.name, p] as const))('%s', async (name, p) => {
    const ns = `gt-${dnsLabel(path.basename(p.dir), 50)}-${namespaces.length}`;
    const out = path.join(tmp, name.replace('/', '-'));
    // the last --namespace wins: every project goes to a namespace of this test's own; a refusal fails here
    await renderTree(p, out, ['--namespace', ns]);
    const built = (await kubectl(['kustomize', out])).stdout;
    const docs = parseAllDocuments(built).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) if (d.kind !== 'Namespace') expect(`${d.kind}/${d.metadata.name} in ${d.metadata.namespace}`).toBe(`${d.kind}/${d.metadata.name} in ${ns}`);
    // the namespace for real (labelled, deleted after), then every object through admission without persisting
    await kubectl(['create', 'namespace', ns, '--save-config']);
    namespaces.push(ns);
    await kubectl(['label', 'namespace', ns, LABEL]);
    const applied = await kubectl(['apply', '-k', out, '--dry-run=server'], `kubectl apply -k ${name} --dry-run=server`);
    const lines = applied.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBe(docs.length);
    for (const l of lines) expect(l).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
    results.push({ name, objects: docs.length, kinds: new Set(docs.map((d) => d.kind)) });
  });
});

test('summary', () => {
  const objects = results.reduce((n, r) => n + r.objects, 0);
  const kinds = [...new Set(results.flatMap((r) => [...r.kinds]))].sort();
  process.stdout.write(`generated trees: ${results.length} of ${projects.length} (${corpus.length} corpus projects) accepted by the API server (${objects} objects; kinds ${kinds.join(', ')})\n`);
  expect(results.length).toBe(projects.length);
});
