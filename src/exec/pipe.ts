import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { CommandError } from '../errors.js';
import { NOT_EXECUTABLE, NOT_FOUND, NOT_FOUND_PREFIX } from './run.js';

export interface PipeResult {
  bytes: number;
  sha256: string;
  /** The consumer's stdout (small: a summary). */
  stdout: string;
}

/**
 * Streams `from`'s stdout into `to`'s stdin (no buffering of the whole stream, so a large
 * database dump is fine), hashing what passes. Either command failing is a CommandError with
 * its own output tail.
 */
export function pipe(from: string[], to: string[], options: { env?: NodeJS.ProcessEnv; what?: string; timeoutMs?: number } = {}): Promise<PipeResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const a = spawn(from[0]!, from.slice(1), { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(to[0]!, to.slice(1), { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    let bytes = 0;
    let aErr = '';
    let bOut = '';
    let bErr = '';
    const keep = (s: string, c: string) => (s + c).slice(-64 * 1024);
    a.stdout!.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    a.stdout!.pipe(b.stdin!);
    b.stdin!.on('error', () => undefined);
    a.stderr!.on('data', (c) => (aErr = keep(aErr, String(c))));
    b.stdout!.on('data', (c) => (bOut = keep(bOut, String(c))));
    b.stderr!.on('data', (c) => (bErr = keep(bErr, String(c))));
    let aCode: number | null | undefined;
    let bCode: number | null | undefined;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          a.kill('SIGKILL');
          b.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    let settled = false;
    const done = () => {
      if (aCode === undefined || bCode === undefined || settled) return;
      settled = true;
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (aCode !== 0) return reject(new CommandError({ argv: from, exitCode: aCode, signal: null, stdout: '', stderr: aErr, durationMs: ms }, { what: options.what }));
      if (bCode !== 0) return reject(new CommandError({ argv: to, exitCode: bCode, signal: null, stdout: bOut, stderr: bErr, durationMs: ms }, { what: options.what }));
      resolve({ bytes, sha256: hash.digest('hex'), stdout: bOut });
    };
    // a program that cannot be spawned is a CommandError with probe's 127/126 answer, not a bare spawn error
    const unstarted = (argv: string[], other: ChildProcess) => (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      other.kill('SIGKILL');
      const code = err.code === 'EACCES' ? NOT_EXECUTABLE : NOT_FOUND;
      const why = err.code === 'ENOENT' ? 'is not installed (not found on PATH)' : err.code === 'EACCES' ? 'is not executable' : (err.code ?? err.message);
      reject(new CommandError({ argv, exitCode: code, signal: null, stdout: '', stderr: `${NOT_FOUND_PREFIX}${argv[0]}: ${why}`, durationMs: Date.now() - started }, { what: options.what, cause: err }));
    };
    a.on('error', unstarted(from, b));
    b.on('error', unstarted(to, a));
    a.on('close', (code) => {
      aCode = code;
      done();
    });
    b.on('close', (code) => {
      bCode = code;
      done();
    });
  });
}
