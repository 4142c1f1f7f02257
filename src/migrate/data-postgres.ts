/**
 * PostgreSQL: dump the Compose database, restore it into the cluster's, verify row counts.
 * The copy is recorded in the cluster (ConfigMap stackport-migration, the dump's sha256), so a
 * re-run skips an unchanged source and refuses to overwrite a cluster that went its own way.
 */
import { StackportError } from '../errors.js';
import { pipe } from '../exec/pipe.js';
import type { Kubectl } from '../cluster/kubectl.js';
import type { Stack } from '../stack/stack.js';
import { composeArgs, execIn } from '../stack/stack.js';

/** psql query printing "table count" lines for every user table. */
const COUNT_SQL = `SELECT format('%s %s', schemaname || '.' || tablename,
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text)
  FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`;

const SH_PSQL = 'psql -v ON_ERROR_STOP=1 -X -q -U "$POSTGRES_USER" -d "$POSTGRES_DB"';
const SH_DUMP = 'pg_dump --clean --if-exists --no-owner --no-privileges -U "$POSTGRES_USER" -d "$POSTGRES_DB"';

export interface PostgresTarget {
  kubectl: Kubectl;
  namespace: string;
  /** Pod and container of the cluster's database (StatefulSet pod, e.g. db-0). */
  pod: string;
  container: string;
}

export interface CopyResult {
  action: 'copied' | 'unchanged';
  bytes: number;
  sha256: string;
  counts: Record<string, number>;
}

export function parseCounts(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

async function clusterCounts(t: PostgresTarget): Promise<Record<string, number>> {
  const r = await t.kubectl.run(['exec', '-n', t.namespace, t.pod, '-c', t.container, '--', 'sh', '-c', `${SH_PSQL} -tA -c "$0"`, COUNT_SQL], {
    what: `row counts in the cluster's database (${t.pod})`,
  });
  return parseCounts(r.stdout);
}

async function composeCounts(stack: Stack, service: string): Promise<Record<string, number>> {
  return parseCounts(await execIn(stack, service, ['sh', '-c', `${SH_PSQL} -tA -c "$0"`, COUNT_SQL]));
}

async function sourceDigest(stack: Stack, service: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { spawn } = await import('node:child_process');
  const argv = [...stack.cli.argv, ...composeArgs(stack), 'exec', '-T', service, 'sh', '-c', SH_DUMP];
  return new Promise((resolve, reject) => {
    // pg_dump (15.14+, 16.10+, ...) frames its output with `\restrict <random key>` lines:
    // leave them out, or the same data would never hash the same twice.
    const h = createHash('sha256');
    const child = spawn(argv[0]!, argv.slice(1), { env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let rest = '';
    const take = (line: string) => {
      if (!/^\\(un)?restrict /.test(line)) h.update(line).update('\n');
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      const lines = (rest + c).split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(take);
    });
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (rest) take(rest);
      if (code === 0) resolve(h.digest('hex'));
      else reject(new StackportError(`pg_dump in ${service} exited with ${code}`, { details: err }));
    });
  });
}

interface Recorded {
  sha256?: string;
  at?: string;
}

async function recorded(t: PostgresTarget): Promise<Recorded> {
  const r = await t.kubectl.run(['get', 'configmap', 'stackport-migration', '-n', t.namespace, '-o', 'json', '--ignore-not-found']);
  if (!r.stdout.trim()) return {};
  const data = (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
  return { sha256: data['postgres.sha256'], at: data['postgres.copiedAt'] };
}

async function record(t: PostgresTarget, sha256: string, counts: Record<string, number>): Promise<void> {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'stackport-migration', namespace: t.namespace, labels: { 'app.kubernetes.io/managed-by': 'stackport-migrate' } },
    data: { 'postgres.sha256': sha256, 'postgres.copiedAt': new Date().toISOString(), 'postgres.counts': JSON.stringify(counts) },
  };
  await t.kubectl.run(['apply', '--server-side', '--field-manager=stackport', '--force-conflicts', '-f', '-'], { input: JSON.stringify(cm) });
}

export async function copyPostgres(stack: Stack, service: string, t: PostgresTarget, options: { force?: boolean } = {}): Promise<CopyResult> {
  const digest = await sourceDigest(stack, service);
  const before = await recorded(t);
  const source = await composeCounts(stack, service);
  if (before.sha256 === digest && !options.force) {
    const counts = await clusterCounts(t);
    return { action: 'unchanged', bytes: 0, sha256: digest, counts };
  }
  if (before.sha256 && before.sha256 !== digest && !options.force) {
    throw new StackportError(`the Compose database changed since it was copied to the cluster (${before.at}); copying again would overwrite what the cluster wrote since`, {
      hint: 'to copy anyway, run migrate with --force-data (the cluster database is replaced by the Compose one)',
    });
  }
  const dump = [...stack.cli.argv, ...composeArgs(stack), 'exec', '-T', service, 'sh', '-c', SH_DUMP];
  const restore = [t.kubectl.binary, '--kubeconfig', t.kubectl.kubeconfig, 'exec', '-i', '-n', t.namespace, t.pod, '-c', t.container, '--', 'sh', '-c', SH_PSQL];
  const piped = await pipe(dump, restore, { env: stack.env, what: `copy PostgreSQL from Compose ${service} to ${t.pod}`, timeoutMs: 30 * 60_000 });
  const counts = await clusterCounts(t);
  const mismatched = Object.keys({ ...source, ...counts }).filter((k) => source[k] !== counts[k]);
  if (mismatched.length) {
    throw new StackportError(`row counts differ after the copy: ${mismatched.map((k) => `${k} compose ${source[k] ?? '-'} vs cluster ${counts[k] ?? '-'}`).join(', ')}`, {
      hint: 'the Compose database was probably written during the copy; run migrate again',
    });
  }
  await record(t, digest, counts);
  return { action: 'copied', bytes: piped.bytes, sha256: digest, counts };
}
