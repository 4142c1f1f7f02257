import { StackportError } from '../errors.js';

/**
 * Waiting on a real condition (benches, e2e suites): `fn` is asked again and again until it gives a
 * truthy value (which is returned) or the time is up. A throw from `fn` counts as "not yet"; the
 * last one is named in the timeout, so a failure says what was seen, not only what was awaited.
 */
export interface WaitOptions {
  timeoutMs?: number;
  /** Pause between two asks; each ask of kubectl costs a process, so not too often. */
  intervalMs?: number;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false | null>, options: WaitOptions | number = {}): Promise<T> {
  const { timeoutMs = 180_000, intervalMs = 500 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const seen = last === undefined ? '' : `: last error: ${(last as Error)?.message ?? String(last)}`;
      throw new StackportError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${seen}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
