import { StackportError } from '../errors.js';
import { ConsoleProgress } from '../ui/progress.js';
import { detect } from './provider.js';

/**
 * `scripts/cluster.mjs up|down|status|build [--provider kubeadm|kind]`.
 * up prints the kubeconfig export line on stdout (everything else goes to stderr), so
 * `eval "$(npx zx scripts/cluster.mjs up)"` works.
 */
export interface ClusterCommandContext {
  root: string;
  out?: NodeJS.WritableStream;
}

export function parseArgs(argv: string[]): { action: string; provider?: string; json: boolean; nodes?: number; config?: string } {
  let action = '';
  let provider: string | undefined;
  let json = false;
  let nodes: number | undefined;
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--provider') provider = argv[++i];
    else if (a.startsWith('--provider=')) provider = a.slice('--provider='.length);
    else if (a === '--json') json = true;
    else if (a === '--nodes' || a.startsWith('--nodes=')) {
      const v = a === '--nodes' ? argv[++i] : a.slice('--nodes='.length);
      nodes = Number(v);
      if (!Number.isInteger(nodes) || (nodes !== 1 && nodes !== 3)) throw new StackportError(`--nodes ${v ?? ''}: kind clusters here have 1 or 3 nodes`, { hint: 'use --nodes 1 or --nodes 3, or --config <kind config>', exitCode: 2 });
    } else if (a === '--config') config = argv[++i];
    else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a === '--verbose') continue;
    else if (!action && !a.startsWith('-')) action = a;
    else throw new StackportError(`unexpected argument ${a}`, { hint: 'usage: cluster.mjs up|down|status [--provider kubeadm|kind] [--nodes 1|3] [--config kind.yaml]', exitCode: 2 });
  }
  if (!['up', 'down', 'status', 'build'].includes(action)) {
    throw new StackportError(action ? `unknown action ${action}` : 'no action given', { hint: 'usage: cluster.mjs up|down|status [--provider kubeadm|kind] [--nodes 1|3] [--config kind.yaml]', exitCode: 2 });
  }
  if ((nodes !== undefined || config !== undefined) && provider !== undefined && provider !== 'kind') {
    throw new StackportError('--nodes and --config are kind options', { hint: 'add --provider kind', exitCode: 2 });
  }
  return { action, provider: provider ?? (nodes !== undefined || config !== undefined ? 'kind' : undefined), json, nodes, config };
}

export async function clusterCommand(argv: string[], ctx: ClusterCommandContext): Promise<void> {
  const { action, provider: wanted, json, nodes, config } = parseArgs(argv);
  const out = ctx.out ?? process.stdout;
  const provider = await detect({ root: ctx.root }, wanted, { nodes, config });
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
    if (!('build' in provider)) throw new StackportError(`the ${provider.name} provider has nothing to build`);
    await (provider as unknown as { build(p: ConsoleProgress): Promise<unknown> }).build(progress);
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
    if (s.state === 'degraded') process.exitCode = 1;
  }
}
