/** `make dev` on the Compose stack: `docker cp` into containers, `compose up --no-deps` to roll one service. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { probe, run } from '../exec/run.js';
import { waitFor } from '../exec/wait.js';
import { containerLogTail, projectContainers, serviceState } from '../stack/containers.js';
import { smokeTarget } from '../stack/commands.js';
import type { Stack } from '../stack/stack.js';
import { ComposeTarget } from '../smoke/compose-target.js';
import type { ProjectChecks } from './smoke-service.js';
import { buildService, composeArgv, composeRunOptions } from './build-image.js';
import type { DevService, DevTarget, Instance, LogStream, Rolled } from './target.js';

export class ComposeDevTarget implements DevTarget {
  readonly name = 'compose' as const;
  /** Image ID each service ran before its last rebuild (for undo). */
  private readonly previous = new Map<string, string>();

  constructor(private readonly stack: Stack) {}

  async instances(service: string): Promise<Instance[]> {
    const all = await projectContainers(this.stack.project);
    return all.filter((c) => c.service === service && c.status === 'running').map((c) => ({ id: c.id, name: c.name }));
  }

  async copy(_service: string, instance: Instance, archive: Buffer): Promise<void> {
    // docker cp writes as root whatever the container's user is, and keeps the tar's modes
    await run(['docker', 'cp', '-', `${instance.id}:/`], { input: archive, what: `docker cp - ${instance.name}:/` });
  }

  async exec(_service: string, instance: Instance, argv: string[]) {
    const r = await probe(['docker', 'exec', instance.id, ...argv]);
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  async signal(_service: string, instance: Instance, signal: NodeJS.Signals): Promise<void> {
    await run(['docker', 'kill', '-s', signal, instance.id], { what: `docker kill -s ${signal} ${instance.name}` });
  }

  logTail(_service: string, instance: Instance, lines = 15): Promise<string> {
    return containerLogTail(instance.id, lines);
  }

  async rebuild(service: DevService, update: (d: string) => void): Promise<Rolled> {
    update('build');
    const { before, after } = await buildService(this.stack, service.name, service.image, update);
    const running = await projectContainers(this.stack.project);
    const current = running.find((c) => c.service === service.name);
    if (before === after && current) return { did: 'image unchanged (layer cache), nothing to roll' };
    if (before) this.previous.set(service.name, before);
    update('recreate');
    try {
      await this.recreate(service.name);
    } catch (err) {
      if (before) {
        await run(['docker', 'tag', before, service.image]);
        await this.recreate(service.name).catch(() => undefined);
      }
      const e = err as StackportError;
      throw new StackportError(`${service.name}: the new version did not get healthy; the previous image was put back`, { details: e.details, cause: err });
    }
    return { did: 'image rebuilt, container recreated' };
  }

  async undo(service: DevService): Promise<void> {
    const before = this.previous.get(service.name);
    if (!before) return;
    await run(['docker', 'tag', before, service.image], { what: `docker tag (put back ${service.image})` });
    await this.recreate(service.name);
  }

  private async recreate(service: string): Promise<void> {
    await run(composeArgv(this.stack, 'up', '-d', '--no-deps', '--no-build', service), { ...composeRunOptions(this.stack), what: `compose up -d --no-deps ${service}`, timeoutMs: 180_000 });
    const hasHealthcheck = this.stack.config.services.find((s) => s.name === service)?.hasHealthcheck ?? false;
    let last = '';
    try {
      await waitFor(`${service} healthy`, async () => {
        const all = await projectContainers(this.stack.project);
        last = serviceState(all, service, hasHealthcheck);
        if (last === 'unhealthy' || last.startsWith('exited')) throw new StackportError(`${service} is ${last}`);
        return last === 'healthy' || last === 'running';
      }, { timeoutMs: 120_000, intervalMs: 250 });
    } catch (err) {
      const c = (await projectContainers(this.stack.project)).find((x) => x.service === service);
      throw new StackportError(`${service} did not get healthy (${last})`, { details: c ? `last log lines of ${c.name}:\n${await containerLogTail(c.id, 15)}` : undefined, cause: err });
    }
  }

  smokeTarget() {
    return { ...smokeTarget(this.stack), markerFile: undefined };
  }

  async projectChecks(): Promise<ProjectChecks | undefined> {
    if (this.stack.demo) return undefined;
    return { target: new ComposeTarget(this.stack), declared: this.stack.smoke, published: this.stack.config.services.flatMap((s) => s.ports) };
  }

  streamLogs(services: string[], out: NodeJS.WritableStream): LogStream {
    // compose logs prefixes each line with its container, as `compose up` does
    const argv = composeArgv(this.stack, 'logs', '--follow', '--no-color', '--tail=0', ...services);
    let child: ReturnType<typeof spawn> | undefined;
    const start = () => {
      child = spawn(argv[0]!, argv.slice(1), { cwd: path.dirname(this.stack.composeFile), env: this.stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
      child.on('error', () => undefined);
    };
    start();
    return {
      // a recreated container is a new one: follow again (tail 0, so nothing is printed twice)
      restart: () => {
        child?.kill('SIGTERM');
        start();
      },
      stop: () => void child?.kill('SIGTERM'),
    };
  }
}
