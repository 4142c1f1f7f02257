import { formatClusterProjects, groupProjects } from '../../src/stack/cluster-projects.js';

/** One item of `kubectl get deployments,statefulsets -A -l app.kubernetes.io/managed-by=stackport -o json`. */
function workload(kind: 'Deployment' | 'StatefulSet', namespace: string, project: string, name: string, replicas: number, readyReplicas?: number) {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/instance': project, 'app.kubernetes.io/managed-by': 'stackport', 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': project },
    },
    spec: { replicas },
    status: readyReplicas === undefined ? { replicas } : { replicas, readyReplicas },
  };
}

// as kubectl prints it: sorted by namespace, then kind, not by project
const kubectlJson = JSON.stringify({
  apiVersion: 'v1',
  kind: 'List',
  items: [
    workload('Deployment', 'default', 'stackport', 'api', 2, 2),
    workload('Deployment', 'default', 'stackport', 'web', 1, 1),
    workload('StatefulSet', 'default', 'stackport', 'db', 1, 1),
    workload('StatefulSet', 'default', 'stackport', 'queue', 1, 1),
    workload('Deployment', 'shop', 'shop', 'web', 1, 1),
    workload('Deployment', 'shop', 'shop', 'worker', 0),
    workload('StatefulSet', 'shop', 'shop', 'mariadb', 1),
    workload('Deployment', 'blog', 'blog', 'app', 3, 1),
    workload('StatefulSet', 'blog', 'blog', 'postgres', 1, 1),
  ],
});

// .stackport/entry-<project>.json, as migrate records them
const entries = [
  { project: 'shop', hostPort: 8092, nodePort: 30504 },
  { project: 'blog', hostPort: 8091, nodePort: 30500 },
];

describe('the projects on a cluster (make status)', () => {
  const projects = groupProjects(JSON.parse(kubectlJson).items, entries);

  test('one line per project and namespace, workloads counted, sorted by namespace', () => {
    expect(projects).toEqual([
      { project: 'blog', namespace: 'blog', ready: 1, workloads: 2, entry: 'http://127.0.0.1:8091' },
      { project: 'stackport', namespace: 'default', ready: 4, workloads: 4, entry: 'http://127.0.0.1:8090' },
      // worker at 0 replicas counts as ready; mariadb with no ready replica does not
      { project: 'shop', namespace: 'shop', ready: 2, workloads: 3, entry: 'http://127.0.0.1:8092' },
    ]);
  });

  test("a project's entry is its own recorded port; without a record only the demo in default has one", () => {
    const noRecords = groupProjects(JSON.parse(kubectlJson).items, []);
    expect(noRecords.map((p) => [p.project, p.entry])).toEqual([
      ['blog', undefined],
      ['stackport', 'http://127.0.0.1:8090'],
      ['shop', undefined],
    ]);
  });

  test('printed: name, namespace, ready/workloads and entry', () => {
    expect(formatClusterProjects(projects).split('\n')).toEqual([
      'cluster projects:',
      `  ${'blog'.padEnd(24)} namespace ${'blog'.padEnd(24)} 1/2 workloads ready  http://127.0.0.1:8091`,
      `  ${'stackport'.padEnd(24)} namespace ${'default'.padEnd(24)} 4/4 workloads ready  http://127.0.0.1:8090`,
      `  ${'shop'.padEnd(24)} namespace ${'shop'.padEnd(24)} 2/3 workloads ready  http://127.0.0.1:8092`,
    ]);
    expect(formatClusterProjects(groupProjects(JSON.parse(kubectlJson).items, [])).split('\n')[1]).toBe(`  ${'blog'.padEnd(24)} namespace ${'blog'.padEnd(24)} 1/2 workloads ready`);
  });

  test('no cluster, or a cluster without a project: said so, with what to run', () => {
    expect(formatClusterProjects(undefined)).toBe('cluster: none answering (make cluster-up)');
    expect(formatClusterProjects(groupProjects([], entries))).toBe('cluster: no stackport project on it yet (make migrate)');
  });
});
