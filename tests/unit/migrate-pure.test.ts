import { imagesIn } from '../../src/migrate/kube.js';
import { parseCounts } from '../../src/migrate/data-postgres.js';
import { parseQueues } from '../../src/migrate/data-rabbitmq.js';
import { workloadStatus } from '../../src/migrate/rollout.js';
import { renderedObjects } from '../../src/migrate/migrate.js';
import { parseReport } from '../../src/bench/migrate-bench.js';
import { parseReplicas } from '../../src/operate/operate.js';
import { k8sCommand } from '../../src/operate/command.js';
import { StackportError } from '../../src/errors.js';
import { IMAGE_IDS_ANNOTATION, stampImageIds } from '../../src/migrate/image-stamp.js';
import { workloadsIn } from '../../src/migrate/rendered.js';
import { dataServices, engineOf } from '../../src/migrate/data-services.js';
import { loadedByKind } from '../../src/cluster/providers/kind.js';
import { parseAllDocuments } from 'yaml';

const rendered = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: wait-for-api
          image: stackport.local/busybox:1.35.0
      containers:
        - image: "stackport-web:1"
          name: web
---
apiVersion: v1
kind: Service
metadata:
  name: web
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
`;

const annotationOf = (stream: string, kind: string) => {
  const doc = parseAllDocuments(stream).map((d) => d.toJS()).find((o) => o.kind === kind);
  return doc?.spec?.template?.metadata?.annotations?.[IMAGE_IDS_ANNOTATION] as string | undefined;
};

describe('migration: pure parts', () => {
  test('pod templates are stamped with their images\' engine IDs: a rebuilt tag changes only its workloads', () => {
    const ids = { 'stackport-web:1': 'sha256:aaa', 'stackport.local/busybox:1.35.0': 'sha256:bbb', 'stackport/postgres:15-bookworm': 'sha256:ccc' };
    const once = stampImageIds(rendered, ids);
    const web = annotationOf(once, 'Deployment');
    const db = annotationOf(once, 'StatefulSet');
    expect(web).toMatch(/^[0-9a-f]{16}$/);
    expect(db).toMatch(/^[0-9a-f]{16}$/);
    expect(stampImageIds(rendered, ids)).toBe(once); // deterministic
    const rebuilt = stampImageIds(rendered, { ...ids, 'stackport-web:1': 'sha256:ddd' });
    expect(annotationOf(rebuilt, 'Deployment')).not.toBe(web);
    expect(annotationOf(rebuilt, 'StatefulSet')).toBe(db);
    // the rest of the stream is kept: same objects, the Service untouched, no annotation without IDs
    expect([...renderedObjects(once)].sort()).toEqual([...renderedObjects(rendered)].sort());
    expect(annotationOf(stampImageIds(rendered, {}), 'Deployment')).toBeUndefined();
  });
  test('data services are found by the image their workload runs, whatever the service is called', () => {
    expect(['postgres:15', 'docker.io/library/postgres@sha256:1', 'bitnami/postgresql:16', 'stackport/postgres:15-bookworm', 'localhost:5000/postgres'].map(engineOf)).toEqual(['postgres', 'postgres', 'postgres', 'postgres', 'postgres']);
    expect(['rabbitmq:3-management', 'stackport/rabbitmq:3.10-bookworm'].map(engineOf)).toEqual(['rabbitmq', 'rabbitmq']);
    expect(['postgres-exporter:1', 'nginx', 'localhost:5000/app'].map(engineOf)).toEqual([undefined, undefined, undefined]);
    const stream = rendered.replace(/name: db\n/g, 'name: pg-main\n');
    const found = dataServices(workloadsIn(stream), [{ name: 'pg_main', image: 'stackport/postgres:15-bookworm', ports: [], hasHealthcheck: true }, { name: 'web', ports: [], hasHealthcheck: true }]);
    expect(found.map((d) => [d.engine, d.service, d.workload.kind, d.workload.name, d.container])).toEqual([['postgres', 'pg_main', 'StatefulSet', 'pg-main', 'pg-main']]);
  });
  test('which images kind says it loaded', () => {
    const out = 'Image: "stackport-web:2" with ID "sha256:1" not yet present on node "k-worker", loading...\nImage: "stackport-api:1" with ID "sha256:2" found to be already present on all nodes.\n';
    expect(loadedByKind(out, ['stackport-api:1', 'stackport-web:2'])).toEqual(['stackport-web:2']);
    expect(loadedByKind('', ['a:1'])).toEqual([]);
  });
  test('images of a rendered stream, init containers included, sorted and unique', () => {
    expect(imagesIn(rendered)).toEqual(['stackport-web:1', 'stackport.local/busybox:1.35.0', 'stackport/postgres:15-bookworm']);
  });
  test('kind/name of every rendered object (what prune keeps)', () => {
    expect([...renderedObjects(rendered)].sort()).toEqual(['Deployment/web', 'Service/web', 'StatefulSet/db']);
  });
  test('row counts from psql', () => {
    expect(parseCounts('public.messages 25\npublic.audit 0\n\n')).toEqual({ 'public.messages': 25, 'public.audit': 0 });
  });
  test('queues from rabbitmqctl json', () => {
    expect(parseQueues('[\n{"name":"messages","messages":3,"consumers":1}\n]')).toEqual([{ name: 'messages', messages: 3, consumers: 1 }]);
    expect(parseQueues('')).toEqual([]);
  });
  test('rollout status: done only when observed, updated and ready', () => {
    const d = (status: object, generation = 2) => workloadStatus({ kind: 'Deployment', metadata: { name: 'web', generation }, spec: { replicas: 3 }, status } as never);
    expect(d({ observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 3 }).done).toBe(true);
    expect(d({ observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3 }).done).toBe(false);
    expect(d({ observedGeneration: 2, replicas: 4, readyReplicas: 3, updatedReplicas: 3 }).done).toBe(false); // old pod still there
    expect(d({ observedGeneration: 2, replicas: 3, readyReplicas: 2, updatedReplicas: 3 }).done).toBe(false);
    const sts = workloadStatus({ kind: 'StatefulSet', metadata: { name: 'db', generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'b' } } as never);
    expect(sts.done).toBe(false);
  });
  test('the migration report parses back into step times', () => {
    const out = 'x\nmigration report:\n  preflight          734 ms  Compose healthy\n  move data           11.7 s  copied\n  total               1 min 5 s\nresources ready: ...\n';
    expect(parseReport(out)).toEqual({ preflight: 734, 'move data': 11700, total: 65_000 });
  });
});

describe('day two: input checked before anything changes', () => {
  test('replica counts', () => {
    expect(parseReplicas('3')).toBe(3);
    for (const bad of ['-1', 'three', '3.5', '51', '']) expect(() => parseReplicas(bad)).toThrow(/whole number from 0 to 50/);
  });
  const fails = async (argv: string[]) => {
    try {
      await k8sCommand(argv, { root: '/nonexistent', out: { write: () => true } as never });
    } catch (e) {
      expect(e).toBeInstanceOf(StackportError);
      return `${(e as StackportError).exitCode} ${(e as StackportError).message}`;
    }
    return 'no error';
  };
  test('bad commands fail with exit 2 and say what is expected', async () => {
    expect(await fails(['scale', 'web'])).toBe('2 scale needs <service>=<replicas>, e.g. scale web=3, not "web"');
    expect(await fails(['scale', 'web=lots'])).toBe('2 replica count must be a whole number from 0 to 50, not "lots"');
    expect(await fails(['update', 'web'])).toBe('2 update needs <service> --image <ref>, e.g. update web --image stackport-web:2');
    expect(await fails(['rollback'])).toBe('2 rollback needs <service>, e.g. rollback web');
    expect(await fails(['explode'])).toBe('2 unknown command "explode"');
    expect(await fails(['update', 'web', '--image'])).toBe('2 option --image needs a value');
  });
});

describe('smoke record after a data copy', () => {
  test('the cluster part becomes a copy of the Compose part; a record from before parts is read by target', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { copyRecord } = await import('../../src/smoke/smoke.js');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'stackport-marker-')), 'smoke.json');
    writeFileSync(file, JSON.stringify({ messages: [
      { id: 1, text: 'a', target: 'compose', at: '1' },
      { id: 2, text: 'b', target: 'k8s', at: '2' },
      { id: 3, text: 'c', target: 'compose', at: '3' },
    ] }));
    copyRecord(file, 'compose', 'k8s');
    const after = JSON.parse(readFileSync(file, 'utf8')) as { targets: Record<string, { messages: { id: number }[] }> };
    expect(after.targets.compose!.messages.map((m) => m.id)).toEqual([1, 3]);
    expect(after.targets.k8s!.messages.map((m) => m.id)).toEqual([1, 3]);
  });
});
