/**
 * The cluster as a smoke target: the entry (127.0.0.1:<host port> -> the entry Service's
 * NodePort) where the check is about the entry service's port, else a `kubectl port-forward` to
 * the service's workload (the same container port); commands through `kubectl exec`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import type { Kubectl } from '../cluster/kubectl.js';
import { dnsLabel } from '../k8s/names.js';
import type { RenderedWorkload } from '../migrate/rendered.js';
import type { Address, CheckTarget, ExecResult, Readiness } from './target.js';

export interface K8sEntry {
  /** Compose service name the entry Service fronts. */
  service: string;
  port: number;
  host: string;
  hostPort: number;
}

export interface K8sTargetOptions {
  kubectl: Kubectl;
  namespace: string;
  /** Compose service names, in the order of the Compose file. */
  services: string[];
  workloads: RenderedWorkload[];
  entry?: K8sEntry;
  markerFile?: string;
}

export class K8sTarget implements CheckTarget {
  readonly name = 'k8s';
  readonly markerFile?: string;
  private readonly forwards = new Map<string, { child: ChildProcess; address: Promise<Address> }>();

  constructor(private readonly o: K8sTargetOptions) {
    this.markerFile = o.markerFile;
  }

  private workload(service: string): RenderedWorkload {
    const w = this.o.workloads.find((x) => x.name === dnsLabel(service) && x.kind !== 'Job');
    if (!w) throw new StackportError(`service ${service} has no workload on the cluster (looked for ${dnsLabel(service)})`);
    return w;
  }

  private ref(service: string): string {
    const w = this.workload(service);
    return `${w.kind.toLowerCase()}/${w.name}`;
  }

  async address(service: string, port: number): Promise<Address> {
    const e = this.o.entry;
    if (e && e.service === service && e.port === port) return { host: e.host, port: e.hostPort, via: `entry ${e.host}:${e.hostPort}` };
    const key = `${service}:${port}`;
    let f = this.forwards.get(key);
    if (!f) {
      const argv = ['--kubeconfig', this.o.kubectl.kubeconfig, 'port-forward', '-n', this.o.namespace, '--address', '127.0.0.1', this.ref(service), `:${port}`];
      const child = spawn(this.o.kubectl.binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      const address = new Promise<Address>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new StackportError(`kubectl port-forward to ${this.ref(service)}:${port} did not start within 20 s`, { details: out })), 20_000);
        const take = (c: Buffer) => {
          out += c.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve({ host: '127.0.0.1', port: Number(m[1]), via: `port-forward ${this.ref(service)}` });
          }
        };
        child.stdout!.on('data', take);
        child.stderr!.on('data', take);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          reject(new StackportError(`kubectl port-forward to ${this.ref(service)}:${port} exited with ${code}`, { details: out }));
        });
      });
      address.catch(() => undefined);
      f = { child, address };
      this.forwards.set(key, f);
    }
    return f.address;
  }

  async exec(service: string, argv: string[]): Promise<ExecResult> {
    const w = this.workload(service);
    const container = w.containers.find((c) => c.name === dnsLabel(service))?.name ?? w.containers[0]?.name;
    const r = await probe([this.o.kubectl.binary, '--kubeconfig', this.o.kubectl.kubeconfig, 'exec', '-n', this.o.namespace, this.ref(service), ...(container ? ['-c', container] : []), '--', ...argv], { timeoutMs: 60_000 });
    return { exitCode: r.exitCode ?? -1, output: `${r.stdout}${r.stderr}` };
  }

  async readiness(): Promise<Readiness[]> {
    type W = { kind: string; metadata: { name: string }; spec?: { replicas?: number }; status?: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number; succeeded?: number } };
    const r = await this.o.kubectl.json<{ items: W[] }>(['get', 'deployments,statefulsets,daemonsets,jobs', '-n', this.o.namespace]);
    return this.o.services.map((service) => {
      const w = r.items.find((x) => x.metadata.name === dnsLabel(service));
      if (!w) return { service, ready: false, state: 'missing' };
      if (w.kind === 'Job') return { service, ready: (w.status?.succeeded ?? 0) > 0, state: (w.status?.succeeded ?? 0) > 0 ? 'completed' : 'running' };
      const want = w.kind === 'DaemonSet' ? (w.status?.desiredNumberScheduled ?? 0) : (w.spec?.replicas ?? 1);
      const ready = w.kind === 'DaemonSet' ? (w.status?.numberReady ?? 0) : (w.status?.readyReplicas ?? 0);
      return { service, ready: ready >= want, state: `${ready}/${want} ready` };
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.forwards.values()].map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('close', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    this.forwards.clear();
  }
}
