import { createServer } from 'node:net';
import { StackportError } from '../errors.js';
import { ENTRY_HOST_PORT, WEB_NODE_PORT } from './provider.js';
import { cmdline, livePid, startDaemon, stopDaemon } from './daemon.js';

/**
 * The app entry on the host: 127.0.0.1:8090 forwards to the web NodePort (30080) on the node's
 * address, the same URL the Compose stack's smoke tests use. A small userspace forwarder (socat)
 * is used instead of iptables DNAT to a localhost NodePort (which needs route_localnet and
 * kube-proxy's nodePortAddresses to include 127.0.0.0/8): it works whatever dockerd does to
 * iptables, and `down` removes it by pid.
 */
export const ENTRY_URL = `http://127.0.0.1:${ENTRY_HOST_PORT}`;

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * socat's listen() backlog is 5 unless told: at 100+ new connections a second the queue
 * overflows, the kernel drops SYNs, and clients wait a 1 s (then 3 s) retransmit. Measured: 429
 * overflows and p99 1.1 s in 40 s at 150 req/s with the default; none with a deep queue.
 */
export function entryArgv(nodeIp: string): string[] {
  return ['socat', `TCP-LISTEN:${ENTRY_HOST_PORT},bind=127.0.0.1,fork,reuseaddr,backlog=1024`, `TCP:${nodeIp}:${WEB_NODE_PORT}`];
}

export async function startEntry(nodeIp: string, log: string): Promise<void> {
  const argv = entryArgv(nodeIp);
  const running = await livePid('entry-forward', 'socat');
  if (running) {
    // an entry started by an older stackport (or to another node address) is replaced
    if ((await cmdline(running))?.join('\0') === argv.join('\0')) return;
    await stopEntry();
  }
  if (!(await portFree(ENTRY_HOST_PORT))) {
    throw new StackportError(`127.0.0.1:${ENTRY_HOST_PORT} is already in use`, {
      hint: `stop what listens there (ss -ltnp 'sport = :${ENTRY_HOST_PORT}'); the cluster's app entry forwards it to NodePort ${WEB_NODE_PORT}`,
    });
  }
  await startDaemon({
    name: 'entry-forward',
    argv,
    log,
  });
}

export async function stopEntry(): Promise<boolean> {
  return stopDaemon('entry-forward', 'socat', 5000);
}
