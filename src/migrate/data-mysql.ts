/**
 * MySQL / MariaDB: a logical dump of the application databases (every schema but the system
 * ones) from the Compose service, restored into the cluster's, row counts compared after. As
 * with PostgreSQL, the dump's sha256 is recorded in the ConfigMap stackport-migration, so a re-run
 * skips an unchanged source and refuses to overwrite a cluster that changed since.
 */
import { createHash } from 'node:crypto';
import { StackportError } from '../errors.js';
import { pipe } from '../exec/pipe.js';
import { probe } from '../exec/run.js';
import type { Kubectl } from '../cluster/kubectl.js';
import type { Stack } from '../stack/stack.js';
import { composeArgs } from '../stack/stack.js';
import { parseCounts } from './data-postgres.js';

/** The client and credentials, as the official images' environment gives them (root if set, also as *_FILE, else the app user). */
const SH_AUTH = `
CLIENT=$(command -v mariadb || command -v mysql); DUMP=$(command -v mariadb-dump || command -v mysqldump)
PW="\${MARIADB_ROOT_PASSWORD:-\${MYSQL_ROOT_PASSWORD:-}}"; U=root
F="\${MARIADB_ROOT_PASSWORD_FILE:-\${MYSQL_ROOT_PASSWORD_FILE:-}}"; if [ -z "$PW" ] && [ -n "$F" ] && [ -r "$F" ]; then PW=$(cat "$F"); fi
if [ -z "$PW" ] && [ -n "\${MARIADB_USER:-\${MYSQL_USER:-}}" ]; then U="\${MARIADB_USER:-$MYSQL_USER}"; PW="\${MARIADB_PASSWORD:-\${MYSQL_PASSWORD:-}}"; fi
export MYSQL_PWD="$PW"
DBS=$("$CLIENT" -u"$U" -N -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('mysql','information_schema','performance_schema','sys')" | tr '\\n' ' ')
`;

export const SH_MYSQL_DUMP = `${SH_AUTH}
[ -n "$DBS" ] || exit 0
exec "$DUMP" -u"$U" --single-transaction --routines --events --triggers --skip-dump-date --add-drop-database --databases $DBS`;

export const SH_MYSQL_RESTORE = `${SH_AUTH}
exec "$CLIENT" -u"$U"`;

/** "schema.table count" per table, exact (COUNT(*), not the statistics' estimate). */
export const SH_MYSQL_COUNTS = `${SH_AUTH}
for db in $DBS; do
  for t in $("$CLIENT" -u"$U" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$db' AND table_type='BASE TABLE'"); do
    printf '%s.%s %s\\n' "$db" "$t" "$("$CLIENT" -u"$U" -N -e "SELECT COUNT(*) FROM \\\`$db\\\`.\\\`$t\\\`")"
  done
done | sort`;

export interface MysqlTarget {
  kubectl: Kubectl;
  namespace: string;
  pod: string;
  container: string;
}

export interface MysqlCopyResult {
  action: 'copied' | 'unchanged';
  bytes: number;
  sha256: string;
  counts: Record<string, number>;
  ms: number;
}

function composeExec(stack: Stack, service: string, script: string): string[] {
  return [...stack.cli.argv, ...composeArgs(stack), 'exec', '-T', service, 'sh', '-c', script];
}

function podExec(t: MysqlTarget, script: string, stdin = false): string[] {
  return [t.kubectl.binary, '--kubeconfig', t.kubectl.kubeconfig, 'exec', ...(stdin ? ['-i'] : []), '-n', t.namespace, t.pod, '-c', t.container, '--', 'sh', '-c', script];
}

async function output(argv: string[], what: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await probe(argv, { env, timeoutMs: 30 * 60_000, maxBuffer: 256 << 20 });
  if (r.exitCode !== 0) throw new StackportError(`${what} exited with ${r.exitCode}`, { details: `${r.stderr}${r.stdout}`.slice(-4000) });
  return r.stdout;
}

async function recorded(t: MysqlTarget, service: string): Promise<{ sha256?: string; at?: string }> {
  const r = await t.kubectl.run(['get', 'configmap', 'stackport-migration', '-n', t.namespace, '-o', 'json', '--ignore-not-found']);
  if (!r.stdout.trim()) return {};
  const data = (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
  return { sha256: data[`mysql.${service}.sha256`], at: data[`mysql.${service}.copiedAt`] };
}

export async function copyMysql(stack: Stack, service: string, t: MysqlTarget, options: { force?: boolean } = {}): Promise<MysqlCopyResult> {
  const started = Date.now();
  const dump = await output(composeExec(stack, service, SH_MYSQL_DUMP), `mysqldump in ${service}`, stack.env);
  const sha256 = createHash('sha256').update(dump).digest('hex');
  const before = await recorded(t, service);
  const source = parseCounts(await output(composeExec(stack, service, SH_MYSQL_COUNTS), `row counts in ${service}`, stack.env));
  if (before.sha256 === sha256 && !options.force) {
    const counts = parseCounts(await output(podExec(t, SH_MYSQL_COUNTS), `row counts in ${t.pod}`));
    return { action: 'unchanged', bytes: 0, sha256, counts, ms: Date.now() - started };
  }
  if (before.sha256 && before.sha256 !== sha256 && !options.force) {
    throw new StackportError(`the Compose database ${service} changed since it was copied to the cluster (${before.at}); copying again would overwrite what the cluster wrote since`, {
      hint: 'to copy anyway, run migrate with --force-data (the cluster database is replaced by the Compose one)',
    });
  }
  const piped = await pipe(composeExec(stack, service, SH_MYSQL_DUMP), podExec(t, SH_MYSQL_RESTORE, true), { env: stack.env, what: `copy ${service} (MySQL/MariaDB) to ${t.pod}`, timeoutMs: 30 * 60_000 });
  const counts = parseCounts(await output(podExec(t, SH_MYSQL_COUNTS), `row counts in ${t.pod}`));
  const mismatched = Object.keys({ ...source, ...counts }).filter((k) => source[k] !== counts[k]);
  if (mismatched.length) {
    throw new StackportError(`row counts differ after the copy of ${service}: ${mismatched.map((k) => `${k} compose ${source[k] ?? '-'} vs cluster ${counts[k] ?? '-'}`).join(', ')}`, {
      hint: 'the Compose database was probably written during the copy; run migrate again',
    });
  }
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'stackport-migration', namespace: t.namespace, labels: { 'app.kubernetes.io/managed-by': 'stackport-migrate' } },
    data: { [`mysql.${service}.sha256`]: sha256, [`mysql.${service}.copiedAt`]: new Date().toISOString() },
  };
  await t.kubectl.run(['apply', '--server-side', `--field-manager=stackport-mysql-${service}`, '--force-conflicts', '-f', '-'], { input: JSON.stringify(cm) });
  return { action: 'copied', bytes: piped.bytes, sha256, counts, ms: Date.now() - started };
}
