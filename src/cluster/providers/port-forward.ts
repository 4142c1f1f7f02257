/**
 * Reaching the app on a cluster that is not on this host: `kubectl port-forward` to the entry
 * Service, started by stackport, health-checked, restarted when it drops (kubectl exits when
 * the pod behind it goes away, e.g. in a rolling update), and stopped at the end. Only the API
 * server is used, as on any remote cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { StackportError } from '../../errors.js';
import { waitFor } from '../../exec/wait.js';
import type { Kubectl } from '../kubectl.js';

export interface PortForwardOptions {
  namespace: string;
  /** e.g. service/web */
  target: string;
  remotePort: number;
  /** local port on 127.0.0.1; 0 = a free one, kept across restarts */
  localPort?: number;
  /** how long to wait for the first forward */
  timeoutMs?: number;
  /** health check period once up (default 5 s) */
  checkEveryMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** The line kubectl prints once it listens. */
export function forwardingPort(output: string): number | undefined {
  const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(output);
  return m ? Number(m[1]) : undefined;
}

export class PortForward {
  private child?: ChildProcess;
  private stopped = false;
  private output = '';
  private monitor?: NodeJS.Timeout;
  private failures = 0;
  /** how many times kubectl was started again after it exited */
  restarts = 0;
  port = 0;

  constructor(
    private readonly kubectl: Kubectl,
    private readonly o: PortForwardOptions,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = this.o.localPort || (await freePort());
    this.spawn();
    await this.waitHealthy(this.o.timeoutMs ?? 60_000);
    // kubectl may also stay up with its pod gone ("lost connection to pod"): two failed checks
    // in a row and it is started again on the same port
    this.monitor = setInterval(() => void this.check(), this.o.checkEveryMs ?? 5000);
    this.monitor.unref();
    return this;
  }

  private async check(): Promise<void> {
    if (this.stopped || !this.child) return;
    if (await this.healthy()) {
      this.failures = 0;
      return;
    }
    if (++this.failures < 2) return;
    this.failures = 0;
    this.child.kill('SIGTERM'); // the exit handler starts it again
  }

  private spawn(): void {
    this.output = '';
    const argv = ['--kubeconfig', this.kubectl.kubeconfig, 'port-forward', '-n', this.o.namespace, '--address', '127.0.0.1', this.o.target, `${this.port}:${this.o.remotePort}`];
    const child = spawn(this.kubectl.binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (c: Buffer) => {
      this.output = (this.output + c.toString()).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', () => {
      if (this.child !== child || this.stopped) return;
      this.child = undefined;
      // the pod behind the Service went away (rollout, eviction): forward again, same port
      this.restarts++;
      setTimeout(() => {
        if (!this.stopped && !this.child) this.spawn();
      }, 200);
    });
  }

  /** Waits until kubectl listens and a TCP connection through it is accepted. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    try {
      await waitFor(
        `kubectl port-forward ${this.o.target} on 127.0.0.1:${this.port}`,
        async () => forwardingPort(this.output) === this.port && (await this.healthy()),
        { timeoutMs, intervalMs: 200 },
      );
    } catch (e) {
      throw new StackportError(`kubectl port-forward -n ${this.o.namespace} ${this.o.target} did not come up: ${(e as Error).message}`, {
        details: this.output,
        hint: 'check that the Service has ready pods and that pods/portforward is allowed',
      });
    }
  }

  /** An HTTP answer through the forward (any status): kubectl and the pod both work. */
  async healthy(): Promise<boolean> {
    try {
      const r = await fetch(this.url, { signal: AbortSignal.timeout(3000) });
      await r.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.monitor);
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 3000).unref();
    });
  }
}
