/**
 * `make dev` on the cluster: `kubectl exec` + tar into the service's pods; a rebuilt image is
 * delivered (deliver.ts: pushed to the registry the workload pulls from, or loaded into the
 * nodes) and the Deployment rolled in one patch of its pod template (the container's image: the
 * new digest, or the tag stamped with the new image ID, as after `make up`), then `rollout status`;
 * `rollout undo` puts the previous version back when the new one does not get ready or fails its
 * smoke checks. A failed build or push changes nothing on the cluster.
 */
import { spawn } from 'node:child_process';
import { StackportError } from '../errors.js';
import { hostCmder, type Cmder } from '../exec/actions.js';
import type { Kubectl } from '../cluster/kubectl.js';
import type { ClusterProvider } from '../cluster/providers/provider.js';
import type { RegistryRef } from '../cluster/addons/registry.js';
import { IMAGE_IDS_ANNOTATION, imageIdsDigest } from '../migrate/image-stamp.js';
import { k8sName } from '../k8s/names.js';
import { stringify } from 'yaml';
import { workloadsIn } from '../migrate/rendered.js';
import { K8sTarget } from '../smoke/k8s-target.js';
import type { ProjectChecks } from './smoke-service.js';
import type { Stack } from '../stack/stack.js';
import { SilentProgress, type Progress } from '../ui/progress.js';
import { buildService } from './build-image.js';
import { deliverImage } from './deliver.js';
import type { DevService, DevTarget, Instance, LogStream, Rolled } from './target.js';

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { containers: { name: string }[] };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

interface Deployment {
  spec: { template: { metadata?: { annotations?: Record<string, string> }; spec: { containers: { name: string; image: string }[] } } };
}

export interface ClusterTargetOptions {
  stack: Stack;
  provider: ClusterProvider;
  kubectl: Kubectl;
  namespace: string;
  /** The app's entry (http://host:port), where the smoke checks go. */
  entry: string;
  /** Push rebuilt images there (else the one the workload names by digest, else the nodes: deliver.ts). */
  registry?: RegistryRef;
  /** The command seam for probes and pushes (default: the host's). */
  cmd?: Cmder;
  /** Builds a service's image (default: buildService, Compose's build with the layer cache). */
  build?: typeof buildService;
  progress?: Progress;
  /** Stopped with the session (the port-forward to a remote cluster's entry). */
  forward?: { stop(): Promise<void> };
}

export class ClusterDevTarget implements DevTarget {
  readonly name = 'cluster' as const;
  private readonly containers = new Map<string, string>();
  private readonly rolled = new Set<string>();

  private readonly cmd: Cmder;

  constructor(private readonly o: ClusterTargetOptions) {
    this.cmd = o.cmd ?? hostCmder;
  }

  private selector(service: string): string {
    return `app.kubernetes.io/instance=${this.o.stack.project},app.kubernetes.io/name=${k8sName(service)}`;
  }

  private kubectl(args: string[]): string[] {
    return [this.o.kubectl.binary, '--kubeconfig', this.o.kubectl.kubeconfig, '-n', this.o.namespace, ...args];
  }

  async instances(service: string): Promise<Instance[]> {
    const pods = await this.o.kubectl.json<{ items: Pod[] }>(['get', 'pods', '-n', this.o.namespace, '-l', this.selector(service)]);
    const live = pods.items.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    for (const p of live) {
      const c = p.spec.containers.find((x) => x.name === k8sName(service)) ?? p.spec.containers[0];
      if (c) this.containers.set(service, c.name);
    }
    return live.map((p) => ({ id: p.metadata.name, name: `pod/${p.metadata.name}` }));
  }

  private container(service: string): string {
    return this.containers.get(service) ?? k8sName(service);
  }

  async copy(service: string, instance: Instance, archive: Buffer): Promise<void> {
    await this.o.kubectl.run(['exec', '-i', '-n', this.o.namespace, instance.id, '-c', this.container(service), '--', 'tar', '-xmf', '-', '-C', '/'], {
      input: archive,
      what: `kubectl exec ${instance.id} -- tar -x (copy files)`,
    });
  }

  async exec(service: string, instance: Instance, argv: string[]) {
    const r = await this.cmd.probe(this.kubectl(['exec', instance.id, '-c', this.container(service), '--', ...argv]));
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  async signal(service: string, instance: Instance, signal: NodeJS.Signals): Promise<void> {
    // the container's main process is PID 1 of its PID namespace; kill is a shell builtin
    await this.o.kubectl.run(['exec', '-n', this.o.namespace, instance.id, '-c', this.container(service), '--', 'sh', '-c', `kill -${signal.replace(/^SIG/, '')} 1`], {
      what: `kubectl exec ${instance.id} -- kill -${signal} 1`,
    });
  }

  async logTail(service: string, instance: Instance, lines = 15): Promise<string> {
    const r = await this.cmd.probe(this.kubectl(['logs', instance.id, '-c', this.container(service), `--tail=${lines}`]));
    return `${r.stdout}${r.stderr}`.trim();
  }

  async rebuild(service: DevService, update: (d: string) => void): Promise<Rolled> {
    // undo() puts back this rebuild's roll only, never an earlier one
    this.rolled.delete(service.name);
    update('build');
    const { before, after } = await (this.o.build ?? buildService)(this.o.stack, service.name, service.image, update);
    const workload = `deployment/${k8sName(service.name)}`;
    const now = await this.o.kubectl.json<Deployment>(['get', workload, '-n', this.o.namespace]);
    const containers = now.spec.template.spec.containers;
    const container = containers.find((c) => c.name === k8sName(service.name)) ?? containers[0];
    if (!container) throw new StackportError(`${workload} has no container to put ${service.image} in`);
    update('deliver');
    const delivered = await deliverImage({ provider: this.o.provider, registry: this.o.registry, cmd: this.cmd, progress: this.o.progress ?? new SilentProgress() }, service.image, container.image);
    // through the nodes the tag stays: the pod template's stamp of the image ID is what rolls
    const stamp = delivered.how === 'nodes' ? imageIdsDigest([[service.image, after]]) : undefined;
    const stamped = now.spec.template.metadata?.annotations?.[IMAGE_IDS_ANNOTATION];
    if (container.image === delivered.image && (delivered.how === 'registry' || (before === after && stamped === stamp))) {
      return { did: `image unchanged (${delivered.how === 'registry' ? 'same digest' : 'layer cache'}), nothing to roll` };
    }
    update('roll');
    const template = { ...(stamp ? { metadata: { annotations: { [IMAGE_IDS_ANNOTATION]: stamp } } } : {}), spec: { containers: [{ name: container.name, image: delivered.image }] } };
    await this.o.kubectl.run(['patch', workload, '-n', this.o.namespace, '--type', 'strategic', '-p', JSON.stringify({ spec: { template } })]);
    this.rolled.add(service.name);
    const status = await this.cmd.probe(this.kubectl(['rollout', 'status', workload, '--timeout=180s']), { timeoutMs: 200_000 });
    if (status.exitCode !== 0) {
      const reasons = await this.unready(service.name);
      this.rolled.delete(service.name);
      await this.o.kubectl.run(['rollout', 'undo', workload, '-n', this.o.namespace]);
      throw new StackportError(`${service.name}: the new pods did not get ready; rolled back (kubectl rollout undo)`, { details: `${status.stderr || status.stdout}\n${reasons}` });
    }
    return { did: `${delivered.did}, ${workload} rolled` };
  }

  private async unready(service: string): Promise<string> {
    const pods = await this.o.kubectl.json<{ items: (Pod & { status: { containerStatuses?: { name: string; state?: Record<string, { reason?: string; message?: string }> }[] } })[] }>(['get', 'pods', '-n', this.o.namespace, '-l', this.selector(service)]);
    const lines: string[] = [];
    for (const p of pods.items) {
      for (const c of p.status.containerStatuses ?? []) {
        const [state, info] = Object.entries(c.state ?? {})[0] ?? [];
        if (state && state !== 'running') lines.push(`pod/${p.metadata.name} ${c.name}: ${state} ${info?.reason ?? ''} ${info?.message ?? ''}`.trim());
      }
      if (!p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) {
        lines.push(`last log lines of pod/${p.metadata.name}:\n${await this.logTail(service, { id: p.metadata.name, name: p.metadata.name }, 10)}`);
      }
    }
    return lines.join('\n');
  }

  async undo(service: DevService): Promise<void> {
    if (!this.rolled.has(service.name)) return;
    this.rolled.delete(service.name);
    const workload = `deployment/${k8sName(service.name)}`;
    await this.o.kubectl.run(['rollout', 'undo', workload, '-n', this.o.namespace]);
    await this.o.kubectl.run(['rollout', 'status', workload, '-n', this.o.namespace, '--timeout=180s'], { timeoutMs: 200_000 });
  }

  async close(): Promise<void> {
    await this.o.forward?.stop();
  }

  smokeTarget() {
    return { name: 'k8s', baseUrl: this.o.entry };
  }

  async projectChecks(): Promise<ProjectChecks | undefined> {
    const { stack, kubectl, namespace } = this.o;
    if (stack.demo) return undefined;
    // the project's workloads as they run now, read the way migrate reads what it rendered
    const list = await kubectl.json<{ items: object[] }>(['get', 'deployments,statefulsets', '-n', namespace, '-l', `app.kubernetes.io/instance=${stack.project}`]);
    const workloads = workloadsIn(list.items.map((i) => stringify(i)).join('---\n'));
    const target = new K8sTarget({ kubectl, namespace, services: stack.config.services.map((s) => s.name), workloads });
    return { target, declared: stack.smoke, published: stack.config.services.flatMap((s) => s.ports) };
  }

  streamLogs(services: string[], out: NodeJS.WritableStream): LogStream {
    // kubectl logs -l resolves the pods once: follow again after a roll replaced them
    let child: ReturnType<typeof spawn> | undefined;
    let stopped = false;
    const start = () => {
      if (stopped) return;
      const argv = this.kubectl(['logs', '--follow', '--prefix', '--tail=0', '--max-log-requests=20', '-l', `app.kubernetes.io/instance=${this.o.stack.project},app.kubernetes.io/name in (${services.join(',')})`]);
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.pipe(out, { end: false });
      child.on('error', () => undefined);
      child.on('close', () => {
        // the followed pods went away (a roll): follow the new ones; a kubectl that keeps failing
        // at once is retried at most every 2 s
        if (!stopped) setTimeout(start, again ? 0 : 2000).unref();
        again = false;
      });
    };
    let again = false;
    start();
    return {
      restart: () => {
        again = true;
        child?.kill('SIGTERM');
      },
      stop: () => {
        stopped = true;
        child?.kill('SIGTERM');
      },
    };
  }
}
