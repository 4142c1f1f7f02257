import { CommandError, StackportError, type CommandResult } from '../errors.js';
import { SilentProgress, type Progress } from '../ui/progress.js';
import { probe, run, type RunOptions } from './run.js';

/**
 * Work as a list of named actions (kind's pkg/cluster/internal/create/create.go), with what kind
 * leaves out: each action may say it is already `done`, so a re-run after a failure skips what
 * is finished (by looking at the real thing, never at a side file alone) and resumes at the
 * action that failed. On failure the error names the action and keeps the failed command's
 * output (a CommandError's argv, exit code, stdout and stderr stay reachable as `command`).
 * Undo (rollback) runs only when asked: for a cluster, resuming beats throwing the work away.
 */

/** The command seam (kind's exec.Cmder): actions run commands through it, tests pass a fake. */
export interface Cmder {
  /** Throws CommandError on a non-zero exit (src/exec/run.ts `run`). */
  run(argv: string[], options?: RunOptions): Promise<CommandResult>;
  /** Returns a non-zero exit instead of throwing (src/exec/run.ts `probe`). */
  probe(argv: string[], options?: RunOptions): Promise<CommandResult>;
}

export const hostCmder: Cmder = { run, probe };

export interface ActionContext {
  cmd: Cmder;
  progress: Progress;
}

export interface Action<C extends ActionContext = ActionContext> {
  /** kebab-case; what STACKPORT_FAIL_ACTION names and the error reports */
  name: string;
  /** shown in progress (default: name) */
  title?: string;
  /** run shows its own progress steps (a build): not wrapped in a step of its own */
  ownProgress?: boolean;
  /** Already done? Checked before run; a throw counts as "not done". Without it the action always runs. */
  done?(ctx: C): Promise<boolean>;
  run(ctx: C, update: (detail: string) => void): Promise<void>;
  /** Reverses run (rollback); called only for actions that ran in this invocation. */
  undo?(ctx: C): Promise<void>;
}

export interface RunActionsOptions {
  /** What the list does, for the error message ("cluster create"). */
  what?: string;
  /** On failure, undo the actions that ran in this invocation, last first (default false). */
  rollback?: boolean;
  /** Environment read for fault injection (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A hint for the failure (default: the failed action's own), or one made from the failure's cause. */
  hint?: string | ((cause: unknown) => string);
}

/** Fault injection: `STACKPORT_FAIL_ACTION=storage-class` (comma-separated names) fails those actions when reached. */
export const FAIL_ACTION_ENV = 'STACKPORT_FAIL_ACTION';

export interface ActionOutcome {
  name: string;
  state: 'done-before' | 'ran' | 'failed' | 'not-reached';
  ms: number;
}

export class ActionError extends StackportError {
  readonly action: string;
  /** The failed command (argv, exit code, full stdout/stderr tails), when a command failed. */
  readonly command?: CommandError;
  readonly outcomes: ActionOutcome[];
  readonly undoErrors: { action: string; error: unknown }[];

  /** `hint`: the runner's; the cause's own hint wins over it unless `hintFromCause` (the runner made it from the cause). */
  constructor(what: string, action: string, cause: unknown, outcomes: ActionOutcome[], undoErrors: { action: string; error: unknown }[], hint?: string, hintFromCause = false) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    const command = findCommandError(cause);
    const details = [
      (cause as StackportError)?.details ?? command?.details,
      ...undoErrors.map((u) => `undo of ${u.action} failed too: ${(u.error as Error)?.message ?? String(u.error)}`),
    ].filter(Boolean).join('\n');
    super(`${what} failed at action ${action}: ${msg}`, {
      cause,
      details: details || undefined,
      hint: hintFromCause ? hint : ((cause as StackportError)?.hint ?? hint),
      exitCode: (cause as StackportError)?.exitCode,
    });
    this.action = action;
    this.command = command;
    this.outcomes = outcomes;
    this.undoErrors = undoErrors;
  }
}

function findCommandError(e: unknown): CommandError | undefined {
  for (let c: unknown = e, i = 0; c && i < 8; c = (c as Error).cause, i++) if (c instanceof CommandError) return c;
  return undefined;
}

export function injectedFailures(env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set((env[FAIL_ACTION_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/**
 * Runs the actions in order. For each: an injected failure (STACKPORT_FAIL_ACTION) fails it when
 * reached (names of other lists are ignored: one variable serves nested runners); else a `done` check that answers true skips it ("already done"); else it runs as one
 * timed progress step. Returns what happened to each action.
 */
export async function runActions<C extends ActionContext>(actions: Action<C>[], ctx: C, options: RunActionsOptions = {}): Promise<ActionOutcome[]> {
  const what = options.what ?? 'run';
  const progress = ctx.progress ?? new SilentProgress();
  const inject = injectedFailures(options.env);
  const outcomes: ActionOutcome[] = actions.map((a) => ({ name: a.name, state: 'not-reached', ms: 0 }));
  const ran: Action<C>[] = [];
  for (const [i, action] of actions.entries()) {
    const started = Date.now();
    const outcome = outcomes[i]!;
    const title = action.title ?? action.name;
    try {
      if (inject.has(action.name)) {
        await progress.step(title, async () => {
          throw new StackportError(`injected failure (${FAIL_ACTION_ENV}=${action.name})`);
        });
      }
      if (action.done && (await action.done(ctx).catch(() => false))) {
        outcome.state = 'done-before';
        outcome.ms = Date.now() - started;
        progress.info(`= ${title}: already done`);
        continue;
      }
      if (action.ownProgress) await action.run(ctx, () => undefined);
      else await progress.step(title, (update) => action.run(ctx, update));
      ran.push(action);
      outcome.state = 'ran';
      outcome.ms = Date.now() - started;
    } catch (e) {
      outcome.state = 'failed';
      outcome.ms = Date.now() - started;
      const undoErrors: { action: string; error: unknown }[] = [];
      if (options.rollback) {
        for (const done of [...ran].reverse()) {
          if (!done.undo) continue;
          try {
            await progress.step(`undo ${done.title ?? done.name}`, () => done.undo!(ctx));
          } catch (u) {
            undoErrors.push({ action: done.name, error: u });
          }
        }
      }
      const fromCause = typeof options.hint === 'function';
      throw new ActionError(what, action.name, e, outcomes, undoErrors, typeof options.hint === 'function' ? options.hint(e) : options.hint, fromCause);
    }
  }
  return outcomes;
}
