import { CommandError, StackportError } from '../errors.js';

const verbose = () => process.argv.includes('--verbose') || /\bstackport\b/.test(process.env.DEBUG ?? '');

/** Formats an error for the terminal: one clear line, details indented, then the hint. */
export function formatError(err: unknown): string {
  if (err instanceof StackportError) {
    const lines = [`error: ${err.located}`];
    if (err instanceof CommandError && verbose()) {
      lines.push(indent(`stdout:\n${err.stdout}`), indent(`stderr:\n${err.stderr}`));
    } else if (err.details) {
      lines.push(indent(err.details));
    }
    if (err.hint) lines.push(`hint: ${err.hint}`);
    if (verbose() && err.stack) lines.push(err.stack);
    return lines.join('\n');
  }
  const e = err as Error;
  return verbose() ? `error: ${e?.stack ?? String(err)}` : `error: ${e?.message ?? String(err)} (run with DEBUG=stackport for the stack)`;
}

/** Top-level handler for scripts: print, set the exit code. */
export function report(err: unknown): never {
  process.stderr.write(`${formatError(err)}\n`);
  const code = err instanceof StackportError ? err.exitCode : 1;
  process.exit(code);
}

function indent(text: string): string {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n');
}
