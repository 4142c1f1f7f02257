import { spawn } from 'node:child_process';
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
 * code, output tail) when it fails. Use `probe` when a failure is an expected answer.
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await probe(argv, options);
  if (result.exitCode !== 0) {
    throw new CommandError(result, { what: options.what, hint: options.hint });
  }
  return result;
}

/** Like run, but a non-zero exit is returned rather than thrown. Spawn errors (ENOENT) still throw. */
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
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ argv, exitCode: code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
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
