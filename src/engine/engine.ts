/**
 * Finds a Docker engine, or installs and starts one (Debian, root), and waits until it answers.
 */
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { probe, run, which } from '../exec/run.js';
import { waitFor } from '../exec/wait.js';
import type { Progress } from '../ui/progress.js';
import { SilentProgress } from '../ui/progress.js';

export interface EngineInfo {
  serverVersion: string;
  apiVersion: string;
  /** How we got it: it already answered, we started dockerd, or installed and started it. */
  how: 'running' | 'started' | 'installed';
  logFile?: string;
}

export interface EnsureEngineOptions {
  progress?: Progress;
  /** Where dockerd's log goes when stackport starts it. */
  logDir: string;
  /** Seconds to wait for a started dockerd to answer. */
  waitSeconds?: number;
  /** Install docker.io with apt when dockerd is missing (default: when root on Debian). */
  allowInstall?: boolean;
}

/** What ensureEngine apt-installs when dockerd is missing (docs/programs.md). */
export const ENGINE_PACKAGES = ['docker.io', 'iptables', 'ca-certificates'];

export async function engineVersion(): Promise<{ serverVersion: string; apiVersion: string } | undefined> {
  if (!(await which('docker'))) return undefined;
  const r = await probe(['docker', 'version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], { timeoutMs: 15_000 });
  if (r.exitCode !== 0) return undefined;
  const [serverVersion = '', apiVersion = ''] = r.stdout.trim().split(/\s+/);
  return serverVersion ? { serverVersion, apiVersion } : undefined;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function isDebianLike(): boolean {
  try {
    return /^(ID|ID_LIKE)=.*\bdebian\b/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

/** apt-get install, with one `apt-get update` first when the lists are missing or an install fails. */
export async function aptInstall(packages: string[], progress: Progress): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => probe(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages], { env, timeoutMs: 900_000 });
  await progress.step(`apt-get install ${packages.join(' ')}`, async () => {
    let r = await install();
    if (r.exitCode !== 0) {
      await run(['apt-get', 'update', '-q'], { env, timeoutMs: 600_000, what: 'apt-get update' });
      r = await install();
    }
    if (r.exitCode !== 0) {
      await run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages], { env, what: `apt-get install ${packages.join(' ')}` });
    }
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes pid files and sockets left by a dockerd that was killed (the processes are gone). */
function clearStaleDockerState(): void {
  for (const pidFile of ['/var/run/docker.pid', '/var/run/docker/containerd/containerd.pid']) {
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid || !pidAlive(pid)) rmSync(pidFile, { force: true });
  }
}

export async function ensureEngine(options: EnsureEngineOptions): Promise<EngineInfo> {
  const progress = options.progress ?? new SilentProgress();
  const now = await engineVersion();
  if (now) return { ...now, how: 'running' };

  const host = process.env.DOCKER_HOST;
  if (host && host !== 'unix:///var/run/docker.sock' && host !== 'unix:///run/docker.sock') {
    throw new StackportError(`no Docker engine answers at DOCKER_HOST=${host}`, {
      hint: 'start that engine, or unset DOCKER_HOST to use (or let stackport start) the local one',
    });
  }
  let how: EngineInfo['how'] = 'started';
  if (!(await which('dockerd'))) {
    const canInstall = options.allowInstall ?? (isRoot() && isDebianLike() && Boolean(await which('apt-get')));
    if (!canInstall) {
      const why = !isRoot() ? 'stackport is not running as root' : !isDebianLike() ? 'this is not a Debian-like system' : 'apt-get is missing';
      throw new StackportError(`no Docker engine answers and dockerd is not installed (${why}, so stackport cannot install it)`, {
        hint: 'install Docker Engine (https://docs.docker.com/engine/install/) and start it, or run `make up` as root on Debian/Ubuntu',
      });
    }
    await aptInstall(ENGINE_PACKAGES, progress);
    how = 'installed';
  }
  if (!isRoot()) {
    throw new StackportError('the Docker engine is installed but not running, and stackport is not root so it cannot start dockerd', {
      hint: 'start it (e.g. `sudo service docker start`), or add your user to the docker group and start the service',
    });
  }

  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, 'dockerd.log');
  await progress.step('start dockerd', async (update) => {
    clearStaleDockerState();
    const fd = openSync(logFile, 'a');
    const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', fd, fd] });
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
    });
    child.unref();
    const logTail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '');
    await waitFor(
      'dockerd to answer',
      async (ctl) => {
        if (exited !== undefined) ctl.abort(new StackportError(`dockerd exited with ${exited} right after it started`, { details: logTail(), hint: `see ${logFile}` }));
        if (await engineVersion()) return true;
        update(`waiting for /var/run/docker.sock (log: ${logFile})`);
        return false;
      },
      { timeoutMs: (options.waitSeconds ?? 60) * 1000, intervalMs: 300, message: `dockerd did not answer within ${options.waitSeconds ?? 60} s`, hint: `see ${logFile}`, timeoutDetails: logTail },
    );
  });
  const v = await engineVersion();
  if (!v) throw new StackportError('dockerd started but `docker version` does not answer', { hint: `see ${logFile}` });
  return { ...v, how, logFile };
}
