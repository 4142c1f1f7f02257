import { run, type RunOptions } from '../exec/run.js';
import type { CommandResult } from '../errors.js';
import type { NodeInfo } from './providers/provider.js';

/** kubectl of the cluster's release, bound to one kubeconfig. */
export class Kubectl {
  constructor(
    readonly binary: string,
    readonly kubeconfig: string,
  ) {}

  run(args: string[], options: RunOptions = {}): Promise<CommandResult> {
    return run([this.binary, '--kubeconfig', this.kubeconfig, ...args], { what: `kubectl ${args.join(' ')}`, timeoutMs: 120_000, ...options });
  }

  apply(yaml: string): Promise<CommandResult> {
    return this.run(['apply', '-f', '-'], { input: yaml });
  }

  async json<T>(args: string[]): Promise<T> {
    return JSON.parse((await this.run([...args, '-o', 'json'])).stdout) as T;
  }

  async nodes(): Promise<NodeInfo[]> {
    type N = {
      metadata: { name: string; labels?: Record<string, string> };
      status: {
        conditions?: { type: string; status: string }[];
        addresses?: { type: string; address: string }[];
        nodeInfo?: { kubeletVersion?: string; containerRuntimeVersion?: string };
      };
    };
    const list = await this.json<{ items: N[] }>(['get', 'nodes']);
    return list.items.map((n) => ({
      name: n.metadata.name,
      ready: n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      roles: Object.keys(n.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length)),
      internalIp: n.status.addresses?.find((a) => a.type === 'InternalIP')?.address,
      kubeletVersion: n.status.nodeInfo?.kubeletVersion,
      containerRuntime: n.status.nodeInfo?.containerRuntimeVersion,
    }));
  }
}
