import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { commandArgs } from '../ui/args.js';
import { detect } from './providers/detect.js';

/**
 * `scripts/cluster.mjs up|down|status|build [--provider kubeadm|kind]`.
 * up prints the kubeconfig export line on stdout (everything else goes to stderr), so
 * `eval "$(npx zx scripts/cluster.mjs up)"` works.
 */
export interface ClusterCommandContext {
  root: string;
  out?: NodeJS.WritableStream;
}

const USAGE_LINE = 'usage: cluster.mjs up|down|status [--provider kubeadm|kind] [--nodes 1|3] [--config kind.yaml]';

export function parseArgs(argv: string[]): { action: string; provider?: string; json: boolean; nodes?: number; config?: string; sub?: string; remote: Record<string, string>; help?: boolean } {
  const { values: v, positionals } = commandArgs(
    argv,
    {
      provider: { type: 'string' },
      json: { type: 'boolean' },
      nodes: { type: 'string' },
      config: { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      namespace: { type: 'string' },
      purge: { type: 'boolean' },
    },
    { positionals: true, hint: USAGE_LINE },
  );
  if (v.help) return { action: 'help', json: false, remote: {}, help: true };
  const [action = '', sub, extra] = positionals;
  if (extra !== undefined || (sub !== undefined && action !== 'registry')) throw new StackportError(`unexpected argument ${extra ?? sub}`, { hint: USAGE_LINE, exitCode: 2 });
  if (v.purge && action !== 'registry') throw new StackportError('unknown option --purge', { hint: 'usage: cluster.mjs registry down --purge', exitCode: 2 });
  const remote: Record<string, string> = {};
  for (const k of ['kubeconfig', 'context', 'namespace'] as const) if (v[k] !== undefined) remote[k] = v[k];
  if (v.purge) remote.purge = 'yes';
  let provider = v.provider;
  const json = Boolean(v.json);
  const config = v.config;
  let nodes: number | undefined;
  if (v.nodes !== undefined) {
    nodes = Number(v.nodes);
    if (!Number.isInteger(nodes) || (nodes !== 1 && nodes !== 3)) throw new StackportError(`--nodes ${v.nodes}: kind clusters here have 1 or 3 nodes`, { hint: 'use --nodes 1 or --nodes 3, or --config <kind config>', exitCode: 2 });
  }
  if (action === 'registry') {
    if (!['up', 'down', 'status'].includes(sub ?? '')) throw new StackportError(`registry ${sub ?? ''}: expected up, down or status`, { hint: 'usage: cluster.mjs registry up|down [--purge]|status', exitCode: 2 });
    return { action, sub, json, remote };
  }
  if (Object.keys(remote).length && provider === undefined) provider = 'kubeconfig';
  if (!['up', 'down', 'status', 'build'].includes(action)) {
    throw new StackportError(action ? `unknown action ${action}` : 'no action given', { hint: USAGE_LINE, exitCode: 2 });
  }
  if ((nodes !== undefined || config !== undefined) && provider !== undefined && provider !== 'kind') {
    throw new StackportError('--nodes and --config are kind options', { hint: 'add --provider kind', exitCode: 2 });
  }
  return { remote, action, provider: provider ?? (nodes !== undefined || config !== undefined ? 'kind' : undefined), json, nodes, config };
}

export async function clusterCommand(argv: string[], ctx: ClusterCommandContext): Promise<void> {
  const { action, provider: wanted, json, nodes, config, sub, remote, help } = parseArgs(argv);
  const out = ctx.out ?? process.stdout;
  if (help) return void out.write(`${USAGE_LINE}\n       cluster.mjs registry up|down [--purge]|status\n`);
  if (action === 'registry') return (await import('./addons/registry-command.js')).registryCommand(sub!, { root: ctx.root, out, json, purge: remote.purge === 'yes' });
  const provider = await detect({ root: ctx.root }, wanted, { nodes, config, remote });
  const progress = new ConsoleProgress();
  const started = Date.now();
  if (action === 'up') {
    await provider.create({ progress });
    if (progress.timings.length > 1) process.stderr.write(`${progress.breakdown(`cluster up (${provider.name})`)}\n`);
    process.stderr.write(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s; apps: ${provider.entry()}\n`);
    out.write(`export KUBECONFIG=${await provider.kubeconfig()}\n`);
  } else if (action === 'down') {
    await provider.delete({ progress });
    process.stderr.write(`${progress.breakdown(`cluster down (${provider.name})`)}\n`);
  } else if (action === 'build') {
    // kubeadm's build is the cluster builder's (build/cluster-build.ts); kind adds its CLI and node image
    if (provider.name === 'kubeadm') await (await import('./build/cluster-build.js')).buildCluster(progress);
    else if (!('build' in provider)) throw new StackportError(`the ${provider.name} provider has nothing to build`);
    else await (provider as unknown as { build(p: ConsoleProgress): Promise<unknown> }).build(progress);
    process.stderr.write(`${progress.breakdown('build')}\n`);
  } else {
    const s = await provider.status();
    if (json) {
      out.write(`${JSON.stringify(s, null, 2)}\n`);
    } else {
      const lines = [`provider: ${s.provider}`, `state: ${s.state}`];
      if (s.kubernetesVersion) lines.push(`version: ${s.kubernetesVersion}`);
      for (const n of s.nodes) lines.push(`node ${n.name}: ${n.ready ? 'Ready' : 'NotReady'} (${n.kubeletVersion ?? '?'}, ${n.containerRuntime ?? '?'}, ${n.internalIp ?? '?'})`);
      for (const [k, v] of Object.entries(s.processes)) lines.push(`${k}: ${v ? `pid ${v}` : 'not running'}`);
      if (s.entry) lines.push(`apps: ${s.entry}`);
      for (const p of s.problems) lines.push(`problem: ${p}`);
      if (s.kubeconfig) lines.push(`export KUBECONFIG=${s.kubeconfig}`);
      out.write(`${lines.join('\n')}\n`);
    }
    if (s.state === 'degraded' || (s.provider === 'kubeconfig' && s.state === 'absent')) process.exitCode = 1;
  }
}
