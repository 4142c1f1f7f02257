/**
 * `healthcheck`: test (CMD, CMD-SHELL, NONE or a string), timings, `disable`.
 */
import type { Healthcheck, Service } from '../model/app.js';
import { describe, isPScalar, isPSeq, type PNode } from './source.js';
import { checkKeys, duration, mapOf, type NormalizeContext, problem, scalarBool, scalarInt, scalarString, warn } from './readers.js';

export function healthcheck(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  const m = mapOf(n, where, ctx);
  if (!m) return;
  checkKeys(m, where, ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'], ctx);
  // Compose decodes the timings whatever else the healthcheck says (no test, disable, NONE): a bad one is refused
  const d = (k: string) => duration(m.entries.get(k)?.value, `${where}.${k}`, ctx);
  const timings = { interval: d('interval'), timeout: d('timeout'), startPeriod: d('start_period'), startInterval: d('start_interval') };
  scalarInt(m.entries.get('retries')?.value, `${where}.retries`, ctx, 0);
  if (scalarBool(m.entries.get('disable')?.value, `${where}.disable`, ctx)) {
    svc.healthcheckDisabled = true;
    return;
  }
  const test = m.entries.get('test')?.value;
  if (!test) {
    // Valid in Compose: the image's HEALTHCHECK stays, with these timings. Its command is not in the Compose file.
    warn(ctx, m.pos, `${where} has no test: Compose keeps the image's HEALTHCHECK; no probe is generated for it (add a test to get one)`);
    svc.healthcheckFromImage = true;
    return;
  }
  let kind: Healthcheck['kind'];
  let command: string[];
  if (isPScalar(test) && typeof test.value === 'string') {
    kind = 'shell';
    command = [test.value];
  } else if (isPSeq(test) && test.items.length > 0) {
    const words = test.items.map((i, k) => scalarString(i, `${where}.test[${k}]`, ctx) ?? '');
    const head = words[0];
    if (head === 'NONE') {
      svc.healthcheckDisabled = true;
      return;
    }
    if (head === 'CMD') {
      kind = 'exec';
      command = words.slice(1);
    } else if (head === 'CMD-SHELL') {
      kind = 'shell';
      command = [words.slice(1).join(' ')];
    } else {
      problem(ctx, test.items[0]!.pos, `${where}.test must start with CMD, CMD-SHELL or NONE, not "${head}"`);
      return;
    }
    if (command.length === 0 || command[0] === '') {
      problem(ctx, test.pos, `${where}.test has no command after ${head}`);
      return;
    }
  } else {
    problem(ctx, test.pos, `${where}.test must be a string or a list, not ${describe(test)}`);
    return;
  }
  svc.healthcheck = {
    kind,
    command,
    intervalSeconds: timings.interval ?? 30,
    timeoutSeconds: timings.timeout ?? 30,
    retries: scalarInt(m.entries.get('retries')?.value, `${where}.retries`, ctx, 1) ?? 3,
    startPeriodSeconds: timings.startPeriod,
    startIntervalSeconds: timings.startInterval,
    pos: m.pos,
  };
}
