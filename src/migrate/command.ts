/** scripts/migrate.mjs: arguments, then the migration. */
import { parseArgs } from 'node:util';
import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { migrate } from './migrate.js';

export const USAGE = `usage: npx zx scripts/migrate.mjs [--provider kubeadm|kind] [--dry-run] [--cutover] [--force-data] [--no-data] [-f compose.yaml]

Moves the running Compose stack (make up) into a Kubernetes cluster: preflight (creates the
cluster when needed) -> generate manifests -> build images -> deliver images -> server-side
apply -> wait for rollout -> move data (PostgreSQL, RabbitMQ) -> the same smoke suite, on the
cluster's entry (127.0.0.1:8090) -> report. Re-running continues; nothing happens to the
Compose stack unless --cutover, and then only after the smoke suite passed on the cluster.

  --provider kubeadm|kind  cluster provider (default: detected)
  --dry-run                print the plan and a server-side diff; change nothing
  --cutover                stop the Compose stack after the cluster passed the smoke suite
  --force-data             copy the database again even if the cluster changed it since the last copy
  --no-data                do not move data (the cluster starts empty)
  -f, --file <file>        Compose file (default compose/compose.yaml)`;

export async function migrateCommand(argv: string[], ctx: { root: string }): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        provider: { type: 'string' },
        'dry-run': { type: 'boolean' },
        cutover: { type: 'boolean' },
        'force-data': { type: 'boolean' },
        'no-data': { type: 'boolean' },
        file: { type: 'string', short: 'f' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new StackportError((e as Error).message, { exitCode: 2, hint: 'see --help' });
  }
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (v.provider && !['kubeadm', 'kind'].includes(v.provider)) {
    throw new StackportError(`--provider must be kubeadm or kind, not "${v.provider}"`, { exitCode: 2 });
  }
  const progress = new ConsoleProgress();
  await migrate({
    root: ctx.root,
    progress,
    out: process.stdout,
    provider: v.provider,
    dryRun: v['dry-run'],
    cutover: v.cutover,
    forceData: v['force-data'],
    noData: v['no-data'],
    composeFile: v.file,
  });
}
