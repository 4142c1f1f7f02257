/** scripts/migrate.mjs: arguments, then the migration. */
import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { commandArgs } from '../ui/args.js';
import { migrate } from './migrate.js';
import { checkedProvider, givenFlags, remoteOptions } from '../cluster/providers/kubeconfig.js';
import { configuredRegistry } from '../cluster/addons/registry.js';

export const USAGE = `usage: npx zx scripts/migrate.mjs [--provider kubeadm|kind|kubeconfig] [--dry-run] [--cutover] [--force-data] [--no-data] [-f compose.yaml]
       [--registry host[:port][/prefix]] [--kubeconfig FILE] [--context NAME] [--namespace NS] [--storage-class NAME] [--entry-url URL]

Moves the running Compose stack (make up) into a Kubernetes cluster: preflight (creates the
cluster when needed) -> generate manifests -> build images -> deliver images -> server-side
apply -> wait for rollout -> move data (PostgreSQL, MySQL/MariaDB, Redis, RabbitMQ, any
other named volume as files) -> the same smoke suite, on the
cluster (the project's declared x-stackport.smoke checks) -> report. Re-running continues; nothing happens to the
Compose stack unless --cutover, and then only after the smoke suite passed on the cluster.

  --provider kubeadm|kind|kubeconfig  cluster provider (default: detected; kubeconfig when --kubeconfig/--context is given)
  --registry host[:port][/prefix]    push images there and name them by digest (local = 127.0.0.1:5001, see cluster.mjs registry up)
  --kubeconfig FILE, --context NAME, --namespace NS   an existing cluster (provider kubeconfig)
  --storage-class NAME     StorageClass for the volumes (default: the cluster's default)
  --entry-url URL          reach the app there (Ingress/LoadBalancer) instead of a kubectl port-forward
  --dry-run                print the plan and a server-side diff; change nothing
  --cutover                stop the Compose stack after the cluster passed the smoke suite
  --force-data             copy the database again even if the cluster changed it since the last copy
  --no-data                do not move data (the cluster starts empty)
  --copy-bind-mounts       also copy each bind-mounted directory's files into the running pod (tar through
                           kubectl exec); there it is an emptyDir, not a claim: the files last until that pod
                           restarts (default: a warning, nothing copied; a named volume is what keeps data)
  -f, --file <file>        Compose file, several merged in order (default COMPOSE_FILE, else compose/compose.yaml)

Actions (a failure names one; a re-run skips what is done): preflight, generate, check-cluster,
build-images, deliver-images, check-pull, apply, rollout, data-<engine>-<service> / data-volume-<volume>,
restart-after-copies (once, after the file copies: the Deployments start again), smoke, record,
cutover. STACKPORT_FAIL_ACTION=<name>[,<name>] fails them on purpose (tests).`;

export async function migrateCommand(argv: string[], ctx: { root: string }): Promise<void> {
  const v = commandArgs(argv, {
    provider: { type: 'string' },
    'dry-run': { type: 'boolean' },
    cutover: { type: 'boolean' },
    'force-data': { type: 'boolean' },
    'no-data': { type: 'boolean' },
    file: { type: 'string', short: 'f', multiple: true },
    'copy-bind-mounts': { type: 'boolean' },
    registry: { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string' },
    'storage-class': { type: 'string' },
    'entry-url': { type: 'string' },
  }).values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const remote = remoteOptions(v);
  configuredRegistry(v.registry); // a bad --registry is refused before anything runs
  checkedProvider(v.provider, givenFlags(v, ['kubeconfig', 'context', 'namespace', 'entry-url']));
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
    registry: v.registry,
    remote: remote ?? (v.provider === 'kubeconfig' ? {} : undefined),
    storageClass: v['storage-class'],
    copyBindMounts: v['copy-bind-mounts'],
  });
}
