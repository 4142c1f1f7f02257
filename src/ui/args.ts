/**
 * Command-line arguments, one way for every entry script: `scriptArgs()` finds the script's own
 * arguments in process.argv, `commandArgs()` parses them with node:util's parseArgs (strict), every
 * command taking --verbose (read by src/ui/report.ts) and -h/--help. A bad flag is one line, exit 2,
 * the same words in every command: `unknown option --x`, `option --x needs a value`,
 * `option --x takes no value`, `unexpected argument x`.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StackportError } from '../errors.js';

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/**
 * The arguments after the script's own path. Under zx, argv is [node, zx, script, ...args]; under
 * node and scripts/lib/run.mjs (what make runs), [node, script, ...args]. The script is found by its
 * real path (a symlinked checkout, `./scripts/x.mjs` or an absolute path), not by the end of a name.
 */
export function scriptArgs(scriptUrl: string, argv: string[] = process.argv): string[] {
  const self = real(fileURLToPath(scriptUrl));
  const at = argv.findIndex((a, i) => i > 0 && a.endsWith(path.basename(self)) && real(a) === self);
  return argv.slice(at >= 0 ? at + 1 : 2);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** What every command takes. */
const COMMON = { verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const satisfies Options;

/** One line for a parseArgs refusal: what is wrong, the way every command says it. */
export function argumentError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const message = err?.message ?? String(e);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  switch (err?.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // the long name, as the user would type it again ('-f, --file <value>' -> --file)
      const name = (quoted ?? '').replace(/ <value>$/, '').replace(/^-\w, /, '');
      if (/argument missing|argument is ambiguous/.test(message)) return `option ${name} needs a value`;
      if (/does not take an argument/.test(message)) return `option ${name} takes no value`;
      return message;
    }
    default:
      return message;
  }
}

/**
 * The command's flags (and positionals, when it takes any), strictly: an unknown flag, a missing
 * value or a stray argument is a StackportError with exit code 2 and `hint` (default: see --help).
 */
export function commandArgs<const O extends Options>(argv: string[], options: O, config: { positionals?: boolean; hint?: string } = {}) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: config.positionals ?? false, options: { ...COMMON, ...options } });
  } catch (e) {
    throw new StackportError(argumentError(e), { exitCode: 2, hint: config.hint ?? 'see --help', cause: e });
  }
}
