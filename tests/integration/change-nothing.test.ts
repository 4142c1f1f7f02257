/**
 * Commands that promise to change nothing (`make status`, `cluster status`, `k8s status`,
 * `migrate --dry-run`, `generate --check`) install nothing, write no file and start no process.
 * Each is run as a user would (the zx entry script), against the real engine and whatever
 * cluster this host has (none, or a running one: both must hold). Before and after each, the
 * test takes: the file tree under the repo (node_modules and .git aside) and under the cache
 * (STACKPORT_CACHE or ~/.cache/stackport), dpkg's status file (any apt install rewrites it), the
 * engine's image list; and, after it, every live process whose environment carries a marker
 * given only to that command: a process it started and left running (dockerd, containerd, a
 * kubelet supervisor, a forwarder) inherits the marker, wherever it was reparented to.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheRoot } from '../../src/engine/cache.js';
import { probe } from '../../src/exec/run.js';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '..', '..');
const SKIP_DIRS = new Set([path.join(root, 'node_modules'), path.join(root, '.git'), path.join(root, '.stackport', 'test-results')]);

type Tree = Map<string, string>;

/** path → type, size, mtime and mode of every entry under `dir` (symlinks not followed). */
function snapshot(dir: string, into: Tree = new Map()): Tree {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return into;
  }
  for (const n of names) {
    const full = path.join(dir, n);
    if (SKIP_DIRS.has(full)) continue;
    let st;
    try {
      st = lstatSync(full);
    } catch {
      continue;
    }
    const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f';
    into.set(full, `${type} ${st.isDirectory() ? '' : st.size} ${st.mtimeMs} ${st.mode.toString(8)}`);
    if (type === 'd') snapshot(full, into);
  }
  return into;
}

function singleFile(file: string, into: Tree): Tree {
  try {
    const st = lstatSync(file);
    into.set(file, `f ${st.size} ${st.mtimeMs}`);
  } catch {
    into.set(file, 'absent');
  }
  return into;
}

async function engineImages(): Promise<string> {
  const r = await probe(['docker', 'image', 'ls', '-a', '-q', '--no-trunc']);
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean).sort().join('\n') : `no engine (${r.exitCode})`;
}

interface World {
  files: Tree;
  images: string;
}

async function world(): Promise<World> {
  const files = snapshot(root);
  snapshot(cacheRoot(), files);
  singleFile('/var/lib/dpkg/status', files);
  return { files, images: await engineImages() };
}

/** The running cluster's daemons (containerd, kubelet, ...) append to their logs here the whole time. */
const DAEMON_LOGS = path.join(root, '.stackport', 'logs') + path.sep;

function changes(before: Tree, after: Tree): string[] {
  const out: string[] = [];
  for (const [p, v] of before) if (!after.has(p)) out.push(`removed ${p}`);
  // a log that grew is the daemons' doing; a new log file (something started) still counts below
  else if (after.get(p) !== v && !(p.startsWith(DAEMON_LOGS) && p.endsWith('.log'))) out.push(`changed ${p} (${v} -> ${after.get(p)})`);
  for (const p of after.keys()) if (!before.has(p)) out.push(`created ${p}`);
  return out;
}

/** Live processes whose environment holds the marker (by pid, with their command line). */
function markedProcesses(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`).includes(marker)) continue;
      found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}`);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, 'node_modules', '.bin', 'zx'), [path.join(root, 'scripts', script), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the command between two snapshots; returns what it printed and what it changed. */
async function changesBy(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ran: Ran; changed: string[]; left: string[]; images: [string, string] }> {
  const marker = `STACKPORT_CHANGE_NOTHING=${randomBytes(8).toString('hex')}`;
  const before = await world();
  const ran = await runScript(script, args, { ...env, STACKPORT_CHANGE_NOTHING: marker.split('=')[1] });
  const left = markedProcesses(marker);
  const after = await world();
  return { ran, changed: changes(before.files, after.files), left, images: [before.images, after.images] };
}

function expectNothingChanged(r: Awaited<ReturnType<typeof changesBy>>): void {
  const said = `exit ${r.ran.code}\n${r.ran.stdout}\n${r.ran.stderr}`;
  // a refusal is fine (no engine, no cluster); a crash is not
  expect({ said, stackTrace: /\n\s+at .+:\d+:\d+\)?\n/.test(r.ran.stderr) }).toEqual({ said, stackTrace: false });
  expect({ said, changed: r.changed }).toEqual({ said, changed: [] });
  expect({ said, processesLeftRunning: r.left }).toEqual({ said, processesLeftRunning: [] });
  expect(r.images[1]).toBe(r.images[0]);
}

describe('commands that promise to change nothing', () => {
  let fixture: string;

  beforeAll(() => {
    // a small app of its own (own project name), so a dry run has something to plan
    fixture = mkdtempSync(path.join(os.tmpdir(), 'stackport-np-dry-'));
    writeFileSync(
      path.join(fixture, 'compose.yaml'),
      ['services:', '  web:', '    image: stackport/nginx:1.22-bookworm', '    ports:', '      - "127.0.0.1:18091:80"', ''].join('\n'),
    );
    writeFileSync(path.join(fixture, '.env'), 'COMPOSE_PROJECT_NAME=np-dry\nSTACKPORT_IMAGE_SOURCE=debian\n', { mode: 0o600 });
  });

  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  it('the snapshot sees a written file, and the marker a process left running', async () => {
    // the check itself must be able to fail
    const before = snapshot(root);
    const probeFile = path.join(root, '.stackport', `change-nothing-${process.pid}`);
    writeFileSync(probeFile, 'x');
    try {
      expect(changes(before, snapshot(root))).toContain(`created ${probeFile}`);
    } finally {
      rmSync(probeFile, { force: true });
    }
    const marker = `STACKPORT_CHANGE_NOTHING=${randomBytes(8).toString('hex')}`;
    const child = spawn('sleep', ['30'], { env: { ...process.env, STACKPORT_CHANGE_NOTHING: marker.split('=')[1] }, detached: true, stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      expect(markedProcesses(marker)).toEqual([`${child.pid}: sleep 30`]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('make status', async () => {
    expectNothingChanged(await changesBy('status.mjs', []));
  });

  it('cluster status (kubeadm)', async () => {
    expectNothingChanged(await changesBy('cluster.mjs', ['status', '--provider', 'kubeadm']));
  });

  it('cluster status (kind)', async () => {
    expectNothingChanged(await changesBy('cluster.mjs', ['status', '--provider', 'kind']));
  });

  it('k8s status (kubeadm)', async () => {
    expectNothingChanged(await changesBy('k8s.mjs', ['status', '--provider', 'kubeadm']));
  });

  it('generate --check', async () => {
    const r = await changesBy('generate.mjs', ['--check']);
    expectNothingChanged(r);
    expect(r.ran.code).toBe(0);
  });

  it('migrate --dry-run (kubeadm): plans, diffs if a cluster runs, and changes nothing', async () => {
    const r = await changesBy('migrate.mjs', ['--dry-run', '--no-data', '--provider', 'kubeadm', '-f', path.join(fixture, 'compose.yaml')], { STACKPORT_PROJECT: 'np-dry' });
    expectNothingChanged(r);
    if (r.ran.code === 0) expect(r.ran.stdout).toMatch(/plan \(dry run, nothing is changed\)/);
  });

  it('migrate --dry-run of a project without a .env reads none and writes none (Compose needs none)', async () => {
    const bare = mkdtempSync(path.join(os.tmpdir(), 'stackport-np-bare-'));
    try {
      writeFileSync(path.join(bare, 'compose.yaml'), readFileSync(path.join(fixture, 'compose.yaml')));
      const r = await changesBy('migrate.mjs', ['--dry-run', '--no-data', '--provider', 'kubeadm', '-f', path.join(bare, 'compose.yaml')], { STACKPORT_PROJECT: 'np-dry' });
      expectNothingChanged(r);
      expect(readdirSync(bare)).toEqual(['compose.yaml']);
      if ((await engineImages()).startsWith('no engine')) return;
      // the demo's generated compose/.env is the only one a dry run refuses without; another project's is optional
      expect(r.ran.stderr).not.toMatch(/\.env does not exist/);
      if (r.ran.code === 0) expect(r.ran.stdout).toMatch(/plan \(dry run, nothing is changed\)/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
