/** scripts/k8s.mjs: day two on the cluster (scale, update, rollback, status). */
import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { detect } from '../cluster/provider.js';
import { kubectlFor } from '../migrate/kube.js';
import { parseReplicas, rollback, scale, statusReport, updateImage, type OpsContext } from './operate.js';

export const USAGE = `usage: npx zx scripts/k8s.mjs <command> [--provider kubeadm|kind]

  status                          nodes, control plane (API server, scheduler, controller manager,
                                  etcd, kube-proxy, CoreDNS) and each service
  scale <service>=<replicas>      e.g. scale web=3 (waits until the pods are ready)
  update <service> --image <ref>  rolling update to another image (waits and reports)
  rollback <service>              back to the previous revision (waits and reports)`;

export async function k8sCommand(argv: string[], ctx: { root: string; out?: NodeJS.WritableStream }): Promise<void> {
  const out = ctx.out ?? process.stdout;
  const args = [...argv];
  const take = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (!v || v.startsWith('--')) throw new StackportError(`${flag} needs a value`, { exitCode: 2, hint: USAGE.split('\n')[0] });
    args.splice(i, 2);
    return v;
  };
  const provider = take('--provider');
  const image = take('--image');
  const verbose = args.indexOf('--verbose');
  if (verbose >= 0) args.splice(verbose, 1);
  const [command, target, ...rest] = args;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out.write(`${USAGE}\n`);
    return;
  }
  if (rest.length) throw new StackportError(`unexpected argument "${rest[0]}"`, { exitCode: 2, hint: USAGE.split('\n')[0] });
  // Check the arguments before touching the cluster.
  let scaleTo: { service: string; replicas: number } | undefined;
  if (command === 'scale') {
    const m = /^([a-z0-9][a-z0-9-]*)=(.*)$/.exec(target ?? '');
    if (!m) throw new StackportError(`scale needs <service>=<replicas>, e.g. scale web=3${target ? `, not "${target}"` : ''}`, { exitCode: 2 });
    scaleTo = { service: m[1]!, replicas: parseReplicas(m[2]!) };
  } else if (command === 'update') {
    if (!target || !image) throw new StackportError('update needs <service> --image <ref>, e.g. update web --image stackport-web:2', { exitCode: 2 });
  } else if (command === 'rollback') {
    if (!target) throw new StackportError('rollback needs <service>, e.g. rollback web', { exitCode: 2 });
  } else if (command !== 'status') {
    throw new StackportError(`unknown command "${command}"`, { exitCode: 2, hint: 'commands: status, scale, update, rollback' });
  }
  const p = await detect({ root: ctx.root }, provider);
  const status = await p.status();
  if (status.state === 'absent') throw new StackportError(`no ${p.name} cluster is running`, { hint: 'run `npx zx scripts/migrate.mjs` (or `make cluster-up`) first' });
  const c: OpsContext = { kubectl: await kubectlFor(p), provider: p, namespace: 'default', progress: new ConsoleProgress() };
  if (command === 'status') out.write(`${await statusReport(c)}\n`);
  else if (scaleTo) out.write(`${await scale(c, scaleTo.service, scaleTo.replicas)}\n`);
  else if (command === 'update') out.write(`${await updateImage(c, target!, image!)}\n`);
  else out.write(`${await rollback(c, target!)}\n`);
}
