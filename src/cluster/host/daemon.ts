import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { waitFor } from '../../exec/wait.js';
import { pidFile } from '../build/cache.js';

/**
 * Background processes the provider owns: started detached in their own session (setsid, so a
 * signal to the process group reaches their children too), output to a log file, pid in
 * /run/stackport/<name>.pid. Stopped by that pid only.
 */
export interface DaemonSpec {
  name: string;
  argv: string[];
  log: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export async function startDaemon(spec: DaemonSpec): Promise<number> {
  await mkdir(dirname(spec.log), { recursive: true });
  const fh = await open(spec.log, 'a');
  try {
    await fh.write(`\n--- ${new Date().toISOString()} stackport starts: ${spec.argv.join(' ')}\n`);
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      detached: true,
      stdio: ['ignore', fh.fd, fh.fd],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    await mkdir(dirname(pidFile(spec.name)), { recursive: true });
    await writeFile(pidFile(spec.name), `${pid}\n`);
    return pid;
  } finally {
    await fh.close();
  }
}

export async function readPid(name: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(pidFile(name), 'utf8')).trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie counts as gone
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The command line of a pid (NUL-separated → array), or undefined when it is gone. */
export async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * The pid recorded for `name`, if that process is still alive and still the program we started
 * (`expect` is a substring of its argv[0] or argv[1]: pids are reused after a reboot or a kill).
 */
export async function livePid(name: string, expect: string): Promise<number | undefined> {
  const pid = await readPid(name);
  if (!pid || !isAlive(pid)) return undefined;
  const argv = await cmdline(pid);
  if (!argv || !argv.slice(0, 3).some((a) => a.includes(expect))) return undefined;
  return pid;
}

/** SIGTERM to the process group of pid (it is a session leader), SIGKILL after graceMs. */
export async function stopGroup(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      try {
        process.kill(pid, s);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  const gone = (ms: number) => waitFor(`pid ${pid} to exit`, async () => !isAlive(pid), { timeoutMs: ms, intervalMs: 100 }).then(() => true, () => false);
  if (await gone(graceMs)) return;
  signal('SIGKILL');
  await gone(5000);
}

export async function stopDaemon(name: string, expect: string, graceMs?: number): Promise<boolean> {
  const pid = await livePid(name, expect);
  if (pid) await stopGroup(pid, graceMs);
  await rm(pidFile(name), { force: true });
  return pid !== undefined;
}

/**
 * When a process started (ms since the epoch): /proc/<pid>/stat field 22 is its start in clock
 * ticks after boot (USER_HZ, 100 on Linux), /proc/stat's btime the boot in seconds.
 */
export async function processStartMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + (ticks / 100) * 1000 : undefined;
  } catch {
    return undefined;
  }
}
