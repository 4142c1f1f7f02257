import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CommandError, type CommandResult } from '../errors.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Kill the command after this many ms (SIGTERM, then SIGKILL 5 s later). */
  timeoutMs?: number;
  /** Called with each chunk of output, for progress display or log files. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Describes the command in errors ("building image web"). */
  what?: string;
  hint?: string;
  /** Keep at most this many characters of each stream (the tail). Default 1 MiB. */
  maxBuffer?: number;
}

/**
 * Runs a command without a shell and returns its output. Throws CommandError (argv, exit
 * code, output tail) when it fails, also when the program is not installed (exit code 127, see
 * probe). Use `probe` when a failure is an expected answer.
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await probe(argv, options);
  if (result.exitCode !== 0) {
    const missing = result.exitCode === NOT_FOUND && result.stderr.startsWith(NOT_FOUND_PREFIX);
    throw new CommandError(result, {
      what: options.what,
      hint: options.hint ?? (missing ? `install ${argv[0]} (docs/programs.md says which package has it)` : undefined),
    });
  }
  return result;
}

/** Exit codes a shell gives for a program it cannot find (127) or cannot execute (126). */
export const NOT_FOUND = 127;
export const NOT_EXECUTABLE = 126;
/** How probe's stderr starts when the program could not be spawned at all. */
export const NOT_FOUND_PREFIX = 'stackport: cannot run ';

/** Whether a result says the program itself is missing (or not executable), rather than that it failed. */
export function notInstalled(result: CommandResult): boolean {
  return (result.exitCode === NOT_FOUND || result.exitCode === NOT_EXECUTABLE) && result.stderr.startsWith(NOT_FOUND_PREFIX);
}

/**
 * Like run, but a non-zero exit is returned rather than thrown: a probe asks a question, and a
 * missing program is an answer too. It never rejects for a command that cannot be spawned: like a
 * shell, it answers exit code 127 (ENOENT: not installed, not on PATH) or 126 (EACCES: not
 * executable), with stderr `stackport: cannot run <cmd>: <reason>` (see notInstalled).
 */
export function probe(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('probe: empty argv');
  const max = options.maxBuffer ?? 1 << 20;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const keep = (buf: string, chunk: string) => {
      const next = buf + chunk;
      return next.length > max ? next.slice(next.length - max) : next;
    };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      stdout = keep(stdout, c);
      options.onOutput?.(c, 'stdout');
    });
    child.stderr!.on('data', (c: string) => {
      stderr = keep(stderr, c);
      options.onOutput?.(c, 'stderr');
    });
    let timer: NodeJS.Timeout | undefined;
    let killer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) {
      timer = setTimeout(() => {
        stderr += `\n[stackport] timed out after ${Math.round(options.timeoutMs! / 1000)} s`;
        child.kill('SIGTERM');
        killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      }, options.timeoutMs);
    }
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      // a spawn failure (no such program, not executable) comes as 'error', then 'close'
      spawnError ??= err;
      if (child.pid === undefined) finish(null, null);
    });
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(killer);
      if (spawnError && child.pid === undefined && options.cwd && spawnError.code === 'ENOENT' && !existsSync(options.cwd)) {
        return reject(new Error(`cannot run ${cmd}: its working directory ${options.cwd} does not exist`, { cause: spawnError }));
      }
      if (spawnError && child.pid === undefined && (spawnError.code === 'ENOENT' || spawnError.code === 'EACCES')) {
        const exitCode = spawnError.code === 'EACCES' ? NOT_EXECUTABLE : NOT_FOUND;
        const reason = spawnError.code === 'ENOENT' ? 'is not installed (not found on PATH)' : spawnError.code === 'EACCES' ? 'is not executable' : (spawnError.code ?? spawnError.message);
        stderr = `${NOT_FOUND_PREFIX}${cmd}: ${reason}`;
        resolve({ argv, exitCode, signal: null, stdout, stderr, durationMs: Date.now() - started });
        return;
      }
      if (spawnError) return reject(spawnError);
      resolve({ argv, exitCode: code, signal, stdout, stderr, durationMs: Date.now() - started });
    };
    child.on('close', (code, signal) => finish(code, signal));
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** True when `name` is an executable on PATH. */
export async function which(name: string): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const path = await import('node:path');
  if (name.includes('/')) {
    try {
      await access(name, constants.X_OK);
      return name;
    } catch {
      return undefined;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const full = path.join(dir, name);
    try {
      await access(full, constants.X_OK);
      return full;
    } catch {
      /* next */
    }
  }
  return undefined;
}
