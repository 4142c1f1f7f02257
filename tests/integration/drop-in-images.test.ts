/**
 * The Debian drop-ins (compose/images/*, as `make prepare` builds them where no registry
 * answers): slim as the official images (no larger where the official size is known, no docs,
 * apt lists or caches, no compiler), and still keeping the official images' contract for what
 * stackport and the tests use: the tools (pg_dump, mariadb-dump, redis-cli, npm, pip, ...), and
 * for the stand-ins no other integration test starts, the servers themselves (MariaDB from
 * MARIADB_*_FILE secrets, answering its healthcheck.sh; Redis reachable from another container).
 */
import { existsSync, readFileSync } from 'node:fs';
import { STAND_INS, chooseImageSource, recipeLabels } from '../../src/engine/images.js';
import { probe, run } from '../../src/exec/run.js';
import { waitFor } from '../../src/exec/wait.js';
import { SilentProgress } from '../../src/ui/progress.js';

jest.setTimeout(240_000);

const tags = [...new Set(STAND_INS.map((d) => d.tag))];
/** The drop-ins' size budgets: the official image's where known, else about 10 % above what the slim recipe gives. */
const budgetMB: Record<string, number> = {
  'stackport/nginx:1.22-bookworm': 192,
  'stackport/postgres:15-bookworm': 430,
  'stackport/node:18-bookworm': 205,
  'stackport/rabbitmq:3.10-bookworm': 195,
  'stackport/redis:7.0-bookworm': 100,
  'stackport/mariadb:10.11-bookworm': 360,
  'stackport/python:3.11-bookworm': 170,
};
/** The commands each keeps from its official image (what compose files, healthchecks, migrate and smoke call). */
const tools: Record<string, string[]> = {
  'stackport/nginx:1.22-bookworm': ['nginx', 'curl'],
  'stackport/postgres:15-bookworm': ['docker-entrypoint.sh', 'postgres', 'initdb', 'pg_isready', 'psql', 'pg_dump', 'pg_restore', 'setpriv'],
  'stackport/node:18-bookworm': ['node', 'npm', 'npx'],
  'stackport/rabbitmq:3.10-bookworm': ['docker-entrypoint.sh', 'rabbitmq-server', 'rabbitmqctl', 'rabbitmq-diagnostics', 'rabbitmq-plugins'],
  'stackport/redis:7.0-bookworm': ['docker-entrypoint.sh', 'redis-server', 'redis-cli'],
  'stackport/mariadb:10.11-bookworm': ['docker-entrypoint.sh', 'healthcheck.sh', 'mariadbd', 'mariadb', 'mariadb-dump', 'mysqldump', 'mariadb-admin'],
  'stackport/python:3.11-bookworm': ['python', 'python3', 'pip', 'pip3'],
};

let skip = '';
const started: string[] = [];
const network = `stackport-it-dropins-${process.pid}`;

beforeAll(async () => {
  const labels = await recipeLabels(tags);
  const missing = tags.filter((t) => !labels.get(t));
  if (missing.length === 0) return;
  const choice = await chooseImageSource({ requested: process.env.STACKPORT_IMAGES, progress: new SilentProgress() });
  if (choice.source === 'official') skip = `${missing.join(', ')} not built: ${choice.why}, so make prepare builds no drop-ins`;
  else throw new Error(`drop-ins not built: ${missing.join(', ')} (make prepare builds them)`);
});

afterAll(async () => {
  if (started.length) await probe(['docker', 'rm', '-f', '-v', ...started]);
  await probe(['docker', 'network', 'rm', network]);
});

const sh = (image: string, script: string, args: string[] = []) => run(['docker', 'run', '--rm', ...args, '--entrypoint', 'sh', image, '-c', script], { what: `sh -c in ${image}`, timeoutMs: 120_000 });

test.each(tags)('%s: within its size budget; no docs beyond licences, no apt lists, caches or .debs, no compiler; the official image\'s commands', async (tag) => {
  if (skip) return console.warn(skip);
  const bytes = Number((await run(['docker', 'image', 'inspect', '--format', '{{.Size}}', tag])).stdout.trim());
  expect(bytes / 1e6).toBeLessThanOrEqual(budgetMB[tag]!);
  const r = await sh(
    tag,
    'find /usr/share/doc /usr/share/man /usr/share/locale /usr/share/info -type f ! -name copyright ! -name locale.alias | head -3; ' +
      'find /var/lib/apt/lists /var/cache/apt -type f ! -name lock | head -3; ' +
      'for c in cc gcc g++ make; do command -v $c; done; ' +
      `for c in ${tools[tag]!.join(' ')}; do command -v $c >/dev/null || echo "missing $c"; done; true`,
  );
  expect(r.stdout.trim()).toBe('');
});

test('node: npm runs and trusts the host\'s CA bundle; the user node is uid 1000', async () => {
  if (skip) return console.warn(skip);
  const r = await sh('stackport/node:18-bookworm', 'npm --version; id -u node; test -s "$NODE_EXTRA_CA_CERTS" && echo ca-ok');
  expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^10\.\d+\.\d+$/), '1000', 'ca-ok']);
});

test('python: pip runs and trusts the host\'s CA bundle', async () => {
  if (skip) return console.warn(skip);
  const r = await sh('stackport/python:3.11-bookworm', 'pip --version >/dev/null && echo pip-ok; cat "$PIP_CERT"');
  const [first, ...ca] = r.stdout.split('\n');
  expect(first).toBe('pip-ok');
  const host = '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(host)) expect(ca.join('\n').trim()).toBe(readFileSync(host, 'utf8').trim());
  else expect(ca.join('\n')).toContain('BEGIN CERTIFICATE');
});

test('mariadb: MARIADB_*/MYSQL_* and *_FILE secrets make the database and user; healthcheck.sh answers; mariadb-dump dumps', async () => {
  if (skip) return console.warn(skip);
  await probe(['docker', 'network', 'create', network]);
  const name = `${network}-mariadb`;
  started.push(name);
  // the secrets as files (Compose secrets), the names plain, one of them under the MYSQL_ prefix
  const secrets = 'printf root-secret > /run/root-pw; printf app-secret > /run/app-pw; exec docker-entrypoint.sh mariadbd';
  await run(['docker', 'run', '-d', '--name', name, '--network', network, '-e', 'MARIADB_ROOT_PASSWORD_FILE=/run/root-pw', '-e', 'MARIADB_PASSWORD_FILE=/run/app-pw', '-e', 'MARIADB_DATABASE=app', '-e', 'MYSQL_USER=app', '--entrypoint', 'sh', 'stackport/mariadb:10.11-bookworm', '-c', secrets]);
  await waitFor('mariadb healthcheck.sh', async () => (await probe(['docker', 'exec', name, 'healthcheck.sh', '--connect', '--innodb_initialized'])).exitCode === 0, { timeoutMs: 180_000, intervalMs: 1000 });
  const r = await run(['docker', 'exec', name, 'sh', '-c', 'mariadb --protocol=tcp -h127.0.0.1 -uapp -papp-secret app -Nse "select database()" && mariadb -uroot -proot-secret -Nse "select 1" && mariadb-dump -uapp -papp-secret app | grep -c "^-- MariaDB dump"']);
  expect(r.stdout.trim().split('\n')).toEqual(['app', '1', '1']);
});

test('redis: another container reaches it (protected mode off, as the official image)', async () => {
  if (skip) return console.warn(skip);
  await probe(['docker', 'network', 'create', network]);
  const name = `${network}-redis`;
  started.push(name);
  await run(['docker', 'run', '-d', '--name', name, '--network', network, '--network-alias', 'cache', 'stackport/redis:7.0-bookworm']);
  await waitFor('redis answers', async () => (await probe(['docker', 'run', '--rm', '--network', network, 'stackport/redis:7.0-bookworm', 'redis-cli', '-h', 'cache', 'ping'])).stdout.trim() === 'PONG', { timeoutMs: 60_000, intervalMs: 500 });
});
