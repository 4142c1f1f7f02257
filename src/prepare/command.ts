/** scripts/prepare.mjs: the cold builds before the tests (make prepare; scripts/test.mjs runs it first). */
import { commandArgs } from '../ui/args.js';
import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { formatPrepared, prepare, type TestProject } from './prepare.js';

const PROJECTS: TestProject[] = ['unit', 'golden', 'integration', 'e2e'];

export const USAGE = `usage: npx zx scripts/prepare.mjs [--projects unit golden integration e2e] [--only <step>...]

Builds (or finds cached) what the integration and e2e tests need: Docker engine, Compose,
base and drop-in images, cluster host packages, cluster binaries and images, metrics-server,
the policy engine, the kind node image. Each step has its own time budget
(STACKPORT_PREPARE_BUDGET_SCALE=2 doubles them); STACKPORT_PREPARE_KIND=0 leaves out the kind node image.`;

export async function prepareCommand(argv: string[], ctx: { root: string; out?: NodeJS.WritableStream }): Promise<void> {
  const parsed = commandArgs(argv, { projects: { type: 'boolean' }, only: { type: 'string', multiple: true } }, { positionals: true });
  if (parsed.values.help) {
    (ctx.out ?? process.stdout).write(`${USAGE}\n`);
    return;
  }
  // --projects takes the positionals that follow it (as scripts/test.mjs passes them)
  const projects = parsed.positionals as TestProject[];
  const unknown = projects.filter((p) => !PROJECTS.includes(p));
  if (unknown.length) throw new StackportError(`unknown test project ${unknown.join(', ')}`, { exitCode: 2, hint: `projects: ${PROJECTS.join(' ')}` });
  const progress = new ConsoleProgress();
  const steps = await prepare({ root: ctx.root, progress, env: process.env }, projects, parsed.values.only);
  (ctx.out ?? process.stdout).write(`${formatPrepared(steps)}\n`);
}
