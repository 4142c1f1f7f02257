/**
 * The Compose stack as a smoke target: a published port where the service publishes the
 * container port (the way a user reaches it), else the container's address on its network
 * (reachable from the engine's host); commands through `compose exec -T`.
 */
import path from 'node:path';
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import { composeArgs, type Stack } from '../stack/stack.js';
import { projectContainers, serviceState } from '../stack/containers.js';
import type { Address, CheckTarget, ExecResult, Readiness } from './target.js';

export class ComposeTarget implements CheckTarget {
  readonly name = 'compose';
  constructor(
    private readonly stack: Stack,
    readonly markerFile?: string,
  ) {}

  async address(service: string, port: number): Promise<Address> {
    const published = this.stack.config.services.find((s) => s.name === service)?.ports.find((p) => p.target === port && p.protocol === 'tcp');
    if (published) {
      const host = published.hostIp === '0.0.0.0' || published.hostIp === '::' ? '127.0.0.1' : published.hostIp;
      return { host, port: published.published, via: `published ${host}:${published.published}` };
    }
    const c = (await projectContainers(this.stack.project)).find((x) => x.service === service && x.status === 'running');
    if (!c) throw new StackportError(`service ${service} has no running container`);
    const r = await probe(['docker', 'inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', c.id]);
    const ip = r.stdout.trim().split(/\s+/).find(Boolean);
    if (!ip) throw new StackportError(`container ${c.name} has no network address`);
    return { host: ip, port, via: `container ${ip}` };
  }

  async exec(service: string, argv: string[]): Promise<ExecResult> {
    const s = this.stack;
    const r = await probe([...s.cli.argv, ...composeArgs(s), 'exec', '-T', service, ...argv], {
      cwd: path.dirname(s.composeFile),
      env: s.env,
      timeoutMs: 60_000,
    });
    return { exitCode: r.exitCode ?? -1, output: `${r.stdout}${r.stderr}` };
  }

  async readiness(): Promise<Readiness[]> {
    const containers = await projectContainers(this.stack.project);
    return this.stack.config.services.map((s) => {
      const state = serviceState(containers, s.name, s.hasHealthcheck);
      return { service: s.name, ready: state === 'healthy' || state === 'running' || state === 'exited (0)', state: state === 'exited (0)' ? 'completed' : state };
    });
  }

  async close(): Promise<void> {}
}
