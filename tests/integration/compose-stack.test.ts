/**
 * The whole demo stack through the real Compose CLI, under Compose v2 and v1: up, smoke,
 * a second up that rebuilds nothing, down + up keeps the data, clean removes it.
 * Each generation runs as its own project on its own port, beside any stack a user runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { prepareStack, up, down, buildChanged, removeProject, type Stack } from '../../src/stack/stack.js';
import { ensureEngine } from '../../src/engine/engine.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { runSmoke } from '../../src/smoke/smoke.js';
import { projectContainers } from '../../src/stack/containers.js';
import { markerFile, smokeTarget } from '../../src/stack/commands.js';
import { probe } from '../../src/exec/run.js';
import { root, tmpDir } from './helpers.js';

jest.setTimeout(600_000);

describe.each([
  ['v2', 18082],
  ['v1', 18083],
])('Compose %s: the demo stack', (generation, port) => {
  const stateDir = tmpDir(`stack-${generation}`);
  const env = { ...process.env, STACKPORT_COMPOSE: generation, WEB_PORT: String(port) };
  const project = `stackport-it-${generation}`;
  let stack: Stack;

  beforeAll(async () => {
    // Leftovers of a killed earlier run (containers, volumes) would hold ports and old credentials.
    await ensureEngine({ logDir: path.join(stateDir, 'logs') });
    await removeProject(project, new SilentProgress(), { volumes: true });
    stack = await prepareStack({ root, progress: new SilentProgress(), env, project, stateDir, envFile: path.join(stateDir, '.env') });
    await down(stack, { volumes: true });
  });

  afterAll(async () => {
    if (stack) await down(stack, { volumes: true });
  });

  test(`uses Compose ${generation}`, () => {
    expect(stack.cli.generation).toBe(generation);
  });

  test('up: every service healthy, and the smoke suite passes', async () => {
    await up(stack);
    const containers = await projectContainers(project);
    expect(containers.map((c) => [c.service, c.health]).sort()).toEqual([
      ['api', 'healthy'],
      ['broker', 'healthy'],
      ['db', 'healthy'],
      ['web', 'healthy'],
    ]);
    const target = smokeTarget(stack);
    expect(target.baseUrl).toBe(`http://127.0.0.1:${port}`);
    const results = await runSmoke(target);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(4);
  });

  test('ports are bound to 127.0.0.1 only', async () => {
    const containers = await projectContainers(project);
    const ports = containers.flatMap((c) => c.ports);
    expect(ports).toEqual([`127.0.0.1:${port}->80/tcp`]);
  });

  test('the api runs as a non-root user', async () => {
    const api = (await projectContainers(project)).find((c) => c.service === 'api')!;
    const r = await probe(['docker', 'exec', api.id, 'id', '-u']);
    expect(r.stdout.trim()).not.toBe('0');
  });

  test('a second up rebuilds nothing and keeps the containers', async () => {
    const before = (await projectContainers(project)).map((c) => c.id).sort();
    expect(await buildChanged(stack)).toEqual([]);
    const second = await up(stack);
    expect(second.built).toEqual([]);
    expect((await projectContainers(project)).map((c) => c.id).sort()).toEqual(before);
  });

  test('down then up keeps the data: messages from before are still there', async () => {
    const target = smokeTarget(stack);
    expect(target.markerFile).toBe(markerFile(stateDir, project));
    await down(stack);
    expect(await projectContainers(project)).toEqual([]);
    await up(stack);
    const results = await runSmoke(target);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const kept = results.find((r) => r.name === 'earlier messages are still there')!;
    expect(kept.detail).toMatch(/^\d+ earlier message\(s\) kept/);
    expect(existsSync(target.markerFile!)).toBe(true);
  });

  test('clean removes the volumes', async () => {
    await down(stack, { volumes: true });
    const r = await probe(['docker', 'volume', 'ls', '-q', '--filter', `name=${project}_`]);
    expect(r.stdout.trim()).toBe('');
  });

  test('after clean, a new database is told apart from lost messages: the record starts again', async () => {
    // the record still names the removed data set (as a checkout's record does when another
    // checkout ran `make clean` on the same engine)
    const target = smokeTarget(stack);
    const record = () => (JSON.parse(readFileSync(target.markerFile!, 'utf8')) as { targets: Record<string, { dataset: string; messages: unknown[] }> }).targets.compose!;
    const before = record();
    expect(before.dataset).toMatch(/^[0-9a-f-]{36}$/);
    expect(before.messages.length).toBeGreaterThan(0);
    await up(stack);
    const results = await runSmoke(target);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.name === 'earlier messages are still there')!.detail).toMatch(/^another database answers \(data set [0-9a-f]{8}; the record was for data set [0-9a-f]{8}, whose volume is gone\): the record starts again$/);
    const after = record();
    expect(after.dataset).not.toBe(before.dataset);
    expect(after.messages).toHaveLength(1);
    await down(stack, { volumes: true });
  });
});
