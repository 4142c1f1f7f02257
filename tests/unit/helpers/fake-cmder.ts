import { CommandError, type CommandResult } from '../../../src/errors.js';
import type { Cmder } from '../../../src/exec/actions.js';
import type { RunOptions } from '../../../src/exec/run.js';

/**
 * A fake command runner for the Cmder seam: answers from a list of rules (first match on the
 * joined argv), records every call. `run` throws CommandError on a non-zero exit like
 * src/exec/run.ts; a rule with `times` answers only that many calls, then falls through.
 */
export interface FakeRule {
  match: RegExp;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  times?: number;
  /** side effect on the fake world */
  effect?: (argv: string[]) => void;
}

export class FakeCmder implements Cmder {
  readonly calls: string[] = [];
  constructor(readonly rules: FakeRule[] = []) {}

  on(rule: FakeRule): this {
    this.rules.unshift(rule);
    return this;
  }

  async probe(argv: string[], _options: RunOptions = {}): Promise<CommandResult> {
    const line = argv.join(' ');
    this.calls.push(line);
    const rule = this.rules.find((r) => r.match.test(line) && (r.times === undefined || r.times > 0));
    if (rule?.times !== undefined) rule.times--;
    rule?.effect?.(argv);
    return { argv, exitCode: rule?.exitCode ?? 0, signal: null, stdout: rule?.stdout ?? '', stderr: rule?.stderr ?? '', durationMs: 1 };
  }

  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    const r = await this.probe(argv, options);
    if (r.exitCode !== 0) throw new CommandError(r, { what: options.what, hint: options.hint });
    return r;
  }

  ran(re: RegExp): number {
    return this.calls.filter((c) => re.test(c)).length;
  }
}
