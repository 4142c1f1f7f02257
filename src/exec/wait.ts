import { StackportError } from '../errors.js';

/**
 * The one way to wait on a real condition: `fn` is asked again and again until it gives a truthy
 * value (which is returned) or the time is up. A throw from `fn` counts as "not yet"; so does a
 * falsy value, and `fn` may say what it saw (`ctl.seen("node: NotReady")`). The timeout error
 * keeps the last failure: its message, its details (a CommandError's output tail) and the error
 * itself as `cause`, so a failure says what was seen, not only what was awaited. `ctl.abort(err)`
 * ends the wait at once (the thing waited for can no longer happen, e.g. its process exited).
 */
export interface WaitOptions {
  timeoutMs?: number;
  /** Pause between two asks; each ask of kubectl costs a process, so not too often. */
  intervalMs?: number;
  /** The hint of the timeout error (what to look at). */
  hint?: string;
  /** Overrides the timeout error's message (default: "timed out after N s waiting for <what>"). */
  message?: string;
  /** More for the timeout error's details, looked up when the time is up (a log tail, the pods' problems). */
  timeoutDetails?: () => Promise<string | undefined> | string | undefined;
}

export interface WaitControl {
  /** Records what this ask saw (shown in the timeout error when nothing was thrown since). */
  seen(text: string): void;
  /** Stops waiting: the wait rejects with this error now. */
  abort(error: Error): never;
}

class Aborted {
  constructor(readonly error: Error) {}
}

export async function waitFor<T>(
  what: string,
  fn: (ctl: WaitControl) => Promise<T | undefined | false | null>,
  options: WaitOptions | number = {},
): Promise<T> {
  const { timeoutMs = 180_000, intervalMs = 500, hint, message, timeoutDetails } = typeof options === 'number' ? ({ timeoutMs: options } as WaitOptions) : options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let seen: string | undefined;
  const ctl: WaitControl = {
    seen: (text) => {
      seen = text;
      last = undefined;
    },
    abort: (error) => {
      throw new Aborted(error);
    },
  };
  for (;;) {
    try {
      const v = await fn(ctl);
      if (v) return v;
    } catch (e) {
      if (e instanceof Aborted) throw e.error;
      last = e;
      seen = undefined;
    }
    if (Date.now() > deadline) {
      const err = timeoutError(what, timeoutMs, last, seen, hint, message);
      const more = timeoutDetails ? await Promise.resolve(timeoutDetails()).catch((e: Error) => `(could not look up more: ${e.message})`) : undefined;
      if (more) (err as { details?: string }).details = [err.details, more].filter(Boolean).join('\n');
      throw err;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(intervalMs, deadline - Date.now() + 1))));
  }
}

function timeoutError(what: string, timeoutMs: number, last: unknown, seen: string | undefined, hint?: string, message?: string): StackportError {
  const base = message ?? `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`;
  if (last === undefined) {
    return new StackportError(seen ? `${base}: last seen: ${firstLine(seen)}` : base, { hint, details: seen && seen.includes('\n') ? seen : undefined });
  }
  const err = last as Partial<StackportError> & Error;
  const text = err?.message ?? String(last);
  return new StackportError(`${base}: last error: ${firstLine(text)}`, {
    hint: hint ?? err?.hint,
    cause: last,
    details: err?.details ?? (text.includes('\n') ? text : undefined),
  });
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}
