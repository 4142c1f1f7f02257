import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimFor, parseTreeSum, TREE_SUM } from '../../src/migrate/data-files.js';
import { parseKeyspace } from '../../src/migrate/data-redis.js';
import { engineOf } from '../../src/migrate/data-services.js';
import { SH_MYSQL_COUNTS, SH_MYSQL_DUMP } from '../../src/migrate/data-mysql.js';

describe('data engines by image', () => {
  test.each([
    ['mariadb:11', 'mysql'],
    ['mysql:8.0', 'mysql'],
    ['docker.io/library/redis:7-alpine', 'redis'],
    ['postgres:16', 'postgres'],
    ['rabbitmq:3-management', 'rabbitmq'],
    ['nginx:1.27', undefined],
    ['stackport-own-app:1', undefined],
  ])('%s -> %s', (image, engine) => expect(engineOf(image)).toBe(engine));
});

describe('tree checksum', () => {
  const sum = (dir: string) => parseTreeSum(execFileSync('sh', ['-c', TREE_SUM, dir], { encoding: 'utf8' }));
  test('counts files and bytes; the same tree sums the same, a change or a rename does not', () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'tree-a-'));
    mkdirSync(path.join(a, 'sub dir'));
    writeFileSync(path.join(a, 'one.txt'), 'hello');
    writeFileSync(path.join(a, 'sub dir', 'two.bin'), Buffer.alloc(1000, 7));
    const b = mkdtempSync(path.join(os.tmpdir(), 'tree-b-'));
    execFileSync('sh', ['-c', `tar -C "${a}" -cf - . | tar -C "${b}" -xf -`]);
    const first = sum(a);
    expect(first).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), files: 2, bytes: 1005 });
    expect(sum(b)).toEqual(first);
    writeFileSync(path.join(b, 'one.txt'), 'hellO');
    expect(sum(b).sha256).not.toBe(first.sha256);
    execFileSync('mv', [path.join(b, 'one.txt'), path.join(b, 'three.txt')]);
    writeFileSync(path.join(b, 'three.txt'), 'hello');
    expect(sum(b).sha256).not.toBe(first.sha256);
  });
  test('an empty tree', () => {
    expect(sum(mkdtempSync(path.join(os.tmpdir(), 'tree-e-')))).toMatchObject({ files: 0, bytes: 0 });
  });
  test('unexpected output is an error', () => expect(() => parseTreeSum('sh: find: not found')).toThrow(/unexpected checksum output/));
});

describe('the claim a volume goes to', () => {
  const rendered = `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: files }
spec:
  replicas: 1
  volumeClaimTemplates:
    - metadata: { name: uploads }
  template:
    spec:
      containers:
        - name: files
          image: stackport-own-app:1
          volumeMounts:
            - { name: uploads, mountPath: /srv/uploads }
            - { name: scratch, mountPath: /tmp }
      volumes:
        - name: scratch
          emptyDir: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: files }
`;
  test('a volumeClaimTemplate: <template>-<statefulset>-0', () => {
    expect(claimFor(rendered, 'files', '/srv/uploads')).toEqual({ kind: 'StatefulSet', workload: 'files', claim: 'uploads-files-0', mountPath: '/srv/uploads', image: 'stackport-own-app:1', replicas: 1 });
  });
  test('an emptyDir or another path has no claim', () => {
    expect(claimFor(rendered, 'files', '/tmp')).toBeUndefined();
    expect(claimFor(rendered, 'files', '/data')).toBeUndefined();
    expect(claimFor(rendered, 'other', '/srv/uploads')).toBeUndefined();
  });
});

describe('redis and mysql', () => {
  test('keys over every database', () => {
    expect(parseKeyspace('# Keyspace\r\ndb0:keys=12,expires=0,avg_ttl=0\r\ndb3:keys=4,expires=1,avg_ttl=9\r\n')).toBe(16);
    expect(parseKeyspace('# Keyspace\r\n')).toBe(0);
  });
  test('the dump leaves out the system schemas and the dump date (a re-run hashes the same)', () => {
    expect(SH_MYSQL_DUMP).toContain("NOT IN ('mysql','information_schema','performance_schema','sys')");
    expect(SH_MYSQL_DUMP).toContain('--skip-dump-date');
    expect(SH_MYSQL_DUMP).toContain('--single-transaction');
    execFileSync('sh', ['-n', '-c', SH_MYSQL_DUMP]);
    execFileSync('sh', ['-n', '-c', SH_MYSQL_COUNTS]);
  });
});
