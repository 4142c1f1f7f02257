/**
 * Bad input and faults, each through the real `make up` script: a clear one-line error,
 * a non-zero exit, no stack trace, and nothing started or changed.
 */
import net from 'node:net';
import path from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { probe } from '../../src/exec/run.js';
import { projectContainers } from '../../src/stack/containers.js';
import { errorLines, runScript, tmpDir } from './helpers.js';

jest.setTimeout(300_000);

function expectCleanError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): string[] {
  const lines = errorLines(r.stderr);
  expect(r.code).toBe(code);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m); // no stack trace
  return lines;
}

describe('make up: bad input and faults', () => {
  test('a YAML syntax error names file, line and column; exit 2', async () => {
    const dir = tmpDir('broken');
    const file = path.join(dir, 'compose.yaml');
    writeFileSync(file, 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"\n  db:\n    image: postgres\n');
    const r = await runScript('up.mjs', ['-f', file], { STACKPORT_PROJECT: 'stackport-it-broken' });
    const lines = expectCleanError(r, 2, /^error: .*compose\.yaml:5:\d+: YAML syntax error: /);
    expect(lines.some((l) => l.startsWith('hint: '))).toBe(true);
    expect(await projectContainers('stackport-it-broken')).toEqual([]);
  });

  test('Compose semantics (unknown service in depends_on) are reported in one line; exit 2', async () => {
    const dir = tmpDir('unknown-dep');
    const file = path.join(dir, 'compose.yaml');
    writeFileSync(file, 'services:\n  web:\n    image: nginx\n    depends_on: [nope]\n');
    const r = await runScript('up.mjs', ['-f', file], { STACKPORT_PROJECT: 'stackport-it-unknown' });
    expectCleanError(r, 2, /^error: .*compose\.yaml: Compose rejects the file: .*nope/);
    expect(await projectContainers('stackport-it-unknown')).toEqual([]);
  });

  test('port already taken: names the port, the service and who holds it; nothing started', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(18090, '127.0.0.1', resolve));
    try {
      const r = await runScript('up.mjs', [], { STACKPORT_PROJECT: 'stackport-it-port', WEB_PORT: '18090' });
      expectCleanError(r, 1, new RegExp(`^error: port 127\\.0\\.0\\.1:18090 for service web is already in use by node \\(pid ${process.pid}\\)$`));
      expect(await projectContainers('stackport-it-port')).toEqual([]);
    } finally {
      server.close();
    }
  });

  test('data volumes without their credentials file: refuses, and says how to recover', async () => {
    const dir = tmpDir('lost-env');
    const file = path.join(dir, 'compose.yaml');
    writeFileSync(file, 'services:\n  db:\n    image: ${POSTGRES_IMAGE:-postgres:15}\n    volumes: [data:/var/lib/postgresql/data]\nvolumes:\n  data:\n');
    const project = 'stackport-it-lostenv';
    await probe(['docker', 'volume', 'create', '--label', `com.docker.compose.project=${project}`, `${project}_data`]);
    try {
      const r = await runScript('up.mjs', ['-f', file, '--no-smoke'], { STACKPORT_PROJECT: project });
      const lines = expectCleanError(r, 1, new RegExp(`^error: data volumes of project ${project} exist \\(${project}_data\\) but .*\\.env, which holds their credentials, is missing$`));
      expect(lines.join('\n')).toContain('make clean');
      expect(existsSync(path.join(dir, '.env'))).toBe(false);
    } finally {
      await probe(['docker', 'volume', 'rm', `${project}_data`]);
    }
  });

  test('engine not answering: says where it looked and what to do', async () => {
    const r = await runScript('up.mjs', [], { DOCKER_HOST: 'unix:///tmp/stackport-no-engine.sock' });
    const lines = expectCleanError(r, 1, /^error: no Docker engine answers at DOCKER_HOST=unix:\/\/\/tmp\/stackport-no-engine\.sock$/);
    expect(lines).toContain('hint: start that engine, or unset DOCKER_HOST to use (or let stackport start) the local one');
  });

  test('a service that never gets healthy: named, with its last log lines; exit 1', async () => {
    const dir = tmpDir('unhealthy');
    const file = path.join(dir, 'compose.yaml');
    writeFileSync(
      file,
      [
        'services:',
        '  db:',
        '    image: ${POSTGRES_IMAGE:-postgres:15}',
        '    command: ["sh", "-c", "echo this service never gets healthy; exec sleep 300"]',
        '    healthcheck: { test: ["CMD", "false"], interval: 1s, timeout: 2s, retries: 2 }',
        '',
      ].join('\n'),
    );
    const env = { STACKPORT_PROJECT: 'stackport-it-unhealthy' };
    try {
      const r = await runScript('up.mjs', ['-f', file, '--no-smoke'], env);
      const lines = expectCleanError(r, 1, /^error: service db did not become healthy \(unhealthy\)$/);
      expect(lines.join('\n')).toMatch(/last log lines of stackport-it-unhealthy[-_]db[-_]1:/);
      expect(lines.join('\n')).toContain('| this service never gets healthy');
    } finally {
      await runScript('clean.mjs', ['-f', file], env);
    }
  });
});
