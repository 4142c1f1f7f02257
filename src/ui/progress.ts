/**
 * Progress for long work: each step prints when it starts and when it ends, with its
 * elapsed time; while it runs on a terminal a ticker shows the seconds so far.
 * Timings are kept so a command can print a breakdown at the end.
 */
export interface StepTiming {
  name: string;
  ms: number;
  ok: boolean;
  /** Wall-clock start and end (steps may run in parallel). */
  start: number;
  end: number;
}

export interface Progress {
  step<T>(name: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T>;
  info(line: string): void;
  warn(line: string): void;
  readonly timings: StepTiming[];
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

export class ConsoleProgress implements Progress {
  readonly timings: StepTiming[] = [];
  private readonly tty: boolean;
  constructor(
    private readonly out: NodeJS.WritableStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = Boolean((out as NodeJS.WriteStream).isTTY) && !process.env.CI;
  }

  info(line: string): void {
    if (!this.quiet) this.out.write(`  ${line}\n`);
  }

  warn(line: string): void {
    this.out.write(`  ! ${line}\n`);
  }

  async step<T>(name: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T> {
    const started = Date.now();
    let detail = '';
    let ticker: NodeJS.Timeout | undefined;
    if (this.tty && !this.quiet) {
      const draw = () => this.out.write(`\r\x1b[K… ${name} ${formatMs(Date.now() - started)}${detail ? ` ${detail}` : ''}`);
      draw();
      ticker = setInterval(draw, 500);
    } else if (!this.quiet) {
      this.out.write(`… ${name}\n`);
    }
    // Without a terminal, print a changed detail at most every 5 s: progress without a flood.
    let printed = '';
    let printedAt = 0;
    const update = (d: string) => {
      detail = d;
      if (this.tty || this.quiet || !d || d === printed || Date.now() - printedAt < 5000) return;
      printed = d;
      printedAt = Date.now();
      this.out.write(`  ${name}: ${d} (${formatMs(Date.now() - started)})\n`);
    };
    try {
      const value = await fn(update);
      const ms = Date.now() - started;
      this.timings.push({ name, ms, ok: true, start: started, end: started + ms });
      if (ticker) clearInterval(ticker);
      if (!this.quiet) this.out.write(`${this.tty ? '\r\x1b[K' : ''}✓ ${name} (${formatMs(ms)})\n`);
      return value;
    } catch (err) {
      const ms = Date.now() - started;
      this.timings.push({ name, ms, ok: false, start: started, end: started + ms });
      if (ticker) clearInterval(ticker);
      this.out.write(`${this.tty ? '\r\x1b[K' : ''}✗ ${name} failed after ${formatMs(ms)}\n`);
      throw err;
    }
  }

  breakdown(title = 'time'): string {
    const total = this.timings.length ? Math.max(...this.timings.map((t) => t.end)) - Math.min(...this.timings.map((t) => t.start)) : 0;
    const width = Math.max(...this.timings.map((t) => t.name.length), 18);
    const rows = this.timings.map((t) => `  ${t.name.padEnd(width)}  ${formatMs(t.ms).padStart(10)}${t.ok ? '' : '  (failed)'}`);
    return [`${title}:`, ...rows, `  ${'total (wall clock)'.padEnd(width)}  ${formatMs(total).padStart(10)}`].join('\n');
  }
}

/** A Progress that prints nothing (tests, library callers). */
export class SilentProgress implements Progress {
  readonly timings: StepTiming[] = [];
  readonly warnings: string[] = [];
  info(): void {}
  warn(line: string): void {
    this.warnings.push(line);
  }
  async step<T>(name: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const v = await fn(() => undefined);
      this.timings.push({ name, ms: Date.now() - started, ok: true, start: started, end: Date.now() });
      return v;
    } catch (e) {
      this.timings.push({ name, ms: Date.now() - started, ok: false, start: started, end: Date.now() });
      throw e;
    }
  }
}
