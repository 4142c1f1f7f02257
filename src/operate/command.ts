/** scripts/k8s.mjs: day two on the cluster (scale, update, rollback, status). */
import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { commandArgs } from '../ui/args.js';
import { detect } from '../cluster/providers/detect.js';
import { kubectlFor, readOnlyKubectl } from '../migrate/kube.js';
import { checkedProvider, givenFlags, KubeconfigProvider } from '../cluster/providers/kubeconfig.js';
import { configuredRegistry } from '../cluster/addons/registry.js';
import { parseReplicas, rollback, scale, statusReport, updateImage, type OpsContext } from './operate.js';

export const USAGE = `usage: npx zx scripts/k8s.mjs <command> [--provider kubeadm|kind|kubeconfig] [--kubeconfig FILE] [--context NAME] [--namespace NS] [--registry host[:port][/prefix]]

  status                          nodes, control plane (API server, scheduler, controller manager,
                                  etcd, kube-proxy, CoreDNS) and each service
  scale <service>=<replicas>      e.g. scale web=3 (waits until the pods are ready)
  update <service> --image <ref>  rolling update to another image (waits and reports)
  rollback <service>              back to the previous revision (waits and reports)`;

export async function k8sCommand(argv: string[], ctx: { root: string; out?: NodeJS.WritableStream }): Promise<void> {
  const out = ctx.out ?? process.stdout;
  const { values: v, positionals } = commandArgs(
    argv,
    { provider: { type: 'string' }, image: { type: 'string' }, kubeconfig: { type: 'string' }, context: { type: 'string' }, namespace: { type: 'string' }, registry: { type: 'string' } },
    { positionals: true, hint: USAGE.split('\n')[0] },
  );
  let provider = v.provider;
  const image = v.image;
  const remote = { kubeconfig: v.kubeconfig, context: v.context, namespace: v.namespace };
  const registry = configuredRegistry(v.registry);
  const isRemote = Object.values(remote).some((x) => x !== undefined);
  checkedProvider(provider, givenFlags(v, ['kubeconfig', 'context', 'namespace']));
  if (isRemote) provider = 'kubeconfig';
  const [command, target, ...rest] = positionals;
  if (!command || v.help || command === 'help') {
    out.write(`${USAGE}\n`);
    return;
  }
  if (rest.length) throw new StackportError(`unexpected argument ${rest[0]}`, { exitCode: 2, hint: USAGE.split('\n')[0] });
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
  const p = await detect({ root: ctx.root }, provider, { remote: { ...remote, registry } });
  const status = await p.status();
  if (status.state === 'absent' && p instanceof KubeconfigProvider) throw new StackportError(status.problems[0] ?? `the cluster of ${p.source} does not answer`, { hint: 'check --kubeconfig, --context and the credentials' });
  if (status.state === 'absent') throw new StackportError(`no ${p.name} cluster is running`, { hint: 'run `npx zx scripts/migrate.mjs` (or `make cluster-up`) first' });
  // status changes nothing: it does not write the kubeconfig copy either
  const kc = p instanceof KubeconfigProvider ? p : undefined;
  const c: OpsContext = {
    kubectl: kc ? await kc.kubectl() : command === 'status' ? await readOnlyKubectl(p, ctx.root) : await kubectlFor(p),
    provider: p,
    namespace: kc ? await kc.namespace() : 'default',
    progress: new ConsoleProgress(),
    registry,
  };
  if (kc && command === 'update' && !registry) kc.requireRegistry();
  if (command === 'status') out.write(`${await statusReport(c)}\n`);
  else if (scaleTo) out.write(`${await scale(c, scaleTo.service, scaleTo.replicas)}\n`);
  else if (command === 'update') out.write(`${await updateImage(c, target!, image!)}\n`);
  else out.write(`${await rollback(c, target!)}\n`);
}
