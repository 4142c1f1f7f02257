/**
 * Errors stackport reports to its users.
 *
 * StackportError: the user's mistake or an unmet precondition. One clear line, a hint,
 * optionally the file/line/col it is about. CommandError: an external command failed; it
 * keeps argv, exit code and the tail of its output so the report can show what happened.
 */
export interface Position {
  file: string;
  line?: number;
  col?: number;
}

export interface StackportErrorOptions {
  hint?: string;
  position?: Position;
  cause?: unknown;
  /** Process exit code the top-level handler uses (default 1; invalid input uses 2). */
  exitCode?: number;
  /** Extra lines (e.g. a service's last log lines) printed under the message. */
  details?: string;
}

export class StackportError extends Error {
  readonly hint?: string;
  readonly position?: Position;
  readonly exitCode: number;
  readonly details?: string;

  constructor(message: string, options: StackportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StackportError';
    this.hint = options.hint;
    this.position = options.position;
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details;
    this.name = new.target.name;
    // Test runners and crash traces print the stack, not the report: keep the failed
    // command's output (details) in it, between the message and the frames.
    const frames = this.stack?.indexOf('\n    at ') ?? -1;
    if (options.details && frames > 0) {
      const shown = options.details.replace(/\s+$/, '').split('\n').map((l) => `    | ${l}`).join('\n');
      this.stack = `${this.stack!.slice(0, frames)}\n${shown}${this.stack!.slice(frames)}`;
    }
  }

  /** `file:line:col: message`, or just the message. */
  get located(): string {
    const p = this.position;
    if (!p) return this.message;
    const where = [p.file, p.line, p.line !== undefined ? p.col : undefined].filter((x) => x !== undefined).join(':');
    return `${where}: ${this.message}`;
  }
}

/** Several problems found in one input, reported together (one line each). */
export class ValidationError extends StackportError {
  readonly problems: StackportError[];
  constructor(problems: StackportError[], options: StackportErrorOptions = {}) {
    super(problems.map((p) => p.located).join('\n'), { exitCode: 2, ...options });
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

export interface CommandResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export class CommandError extends StackportError {
  readonly argv: string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: CommandResult, options: StackportErrorOptions & { what?: string } = {}) {
    const cmd = result.argv.map(quoteArg).join(' ');
    // probe's answer for a program that could not be spawned (src/exec/run.ts NOT_FOUND_PREFIX)
    const unstarted = /^stackport: cannot run \S+: (.*)$/.exec(result.stderr)?.[1];
    const how = result.signal ? `was killed by ${result.signal}` : unstarted ? `could not start: ${result.argv[0]} ${unstarted}` : `exited with ${result.exitCode}`;
    super(`${options.what ?? cmd} ${how}`, { ...options, details: options.details ?? tail(result.stderr || result.stdout, 20) });
    this.name = 'CommandError';
    this.argv = result.argv;
    this.code = result.exitCode;
    this.signal = result.signal;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

export function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

export function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function isStackportError(e: unknown): e is StackportError {
  return e instanceof StackportError;
}
