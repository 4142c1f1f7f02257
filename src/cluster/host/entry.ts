import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { waitFor } from '../../exec/wait.js';
import { StackportError } from '../../errors.js';
import { ENTRY_HOST_PORT, WEB_NODE_PORT } from '../providers/provider.js';
import { cmdline, livePid, startDaemon, stopDaemon } from './daemon.js';
import { portFree } from '../../stack/ports.js';

/**
 * The app entry on the host: 127.0.0.1:8090 forwards to the web NodePort (30080) on the node's
 * address, the same URL the Compose stack's smoke tests use. A small userspace forwarder (socat)
 * is used instead of iptables DNAT to a localhost NodePort (which needs route_localnet and
 * kube-proxy's nodePortAddresses to include 127.0.0.0/8): it works whatever dockerd does to
 * iptables, and `down` removes it by pid.
 */
export const ENTRY_URL = `http://127.0.0.1:${ENTRY_HOST_PORT}`;

/**
 * socat's listen() backlog is 5 unless told: at 100+ new connections a second the queue
 * overflows, the kernel drops SYNs, and clients wait a 1 s (then 3 s) retransmit. Measured: 429
 * overflows and p99 1.1 s in 40 s at 150 req/s with the default; none with a deep queue.
 */
export function entryArgv(nodeIp: string, hostPort = ENTRY_HOST_PORT, nodePort = WEB_NODE_PORT): string[] {
  return ['socat', `TCP-LISTEN:${hostPort},bind=127.0.0.1,fork,reuseaddr,backlog=1024`, `TCP:${nodeIp}:${nodePort}`];
}

export async function startEntry(nodeIp: string, log: string): Promise<void> {
  const argv = entryArgv(nodeIp);
  const running = await livePid('entry-forward', 'socat');
  if (running) {
    // an entry started by an older stackport (or to another node address) is replaced
    if ((await cmdline(running))?.join('\0') === argv.join('\0')) return;
    await stopEntry();
  }
  if (!(await portFree('127.0.0.1', ENTRY_HOST_PORT))) {
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

// ---------------------------------------------------------------- per project

/**
 * Another project than the demo gets its own entry: the first free host port from 8090 up
 * (8090 itself is the demo's), forwarded to the NodePort its entry Service has, recorded in
 * .stackport/entry-<project>.json so a re-run keeps the same URL.
 */
export interface EntryRecord {
  project: string;
  hostPort: number;
  nodePort: number;
}

const recordFile = (stateDir: string, project: string) => path.join(stateDir, `entry-${project}.json`);

export function readEntryRecord(stateDir: string, project: string): EntryRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile(stateDir, project), 'utf8')) as EntryRecord;
  } catch {
    return undefined;
  }
}

/** Every project's recorded entry under this state directory. */
export function entryRecords(stateDir: string): EntryRecord[] {
  let names: string[] = [];
  try {
    names = readdirSync(stateDir).filter((n) => /^entry-.+\.json$/.test(n));
  } catch {
    return [];
  }
  return names.map((n) => readEntryRecord(stateDir, n.slice(6, -5))).filter((r): r is EntryRecord => Boolean(r));
}

/** The first NodePort block of 4 in 30500-30599 that no Service holds (the demo keeps 30080). */
export function freeNodePort(taken: Set<number>, from = 30500, to = 30599): number {
  for (let p = from; p + 3 <= to; p += 4) if (![0, 1, 2, 3].some((i) => taken.has(p + i))) return p;
  throw new StackportError(`no free NodePort between ${from} and ${to}`, { hint: 'delete a project from the cluster (kubectl delete namespace <project>)' });
}

/** The entry Service (NodePort) of a rendered stream: its name, first port and NodePort. */
export function entryOf(rendered: string): { name: string; port: number; nodePort: number } | undefined {
  for (const doc of parseAllDocuments(rendered)) {
    const o = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { type?: string; ports?: { port: number; nodePort?: number }[] } } | null;
    const p = o?.spec?.ports?.[0];
    if (o?.kind === 'Service' && o.spec?.type === 'NodePort' && o.metadata?.name && p?.nodePort) return { name: o.metadata.name, port: p.port, nodePort: p.nodePort };
  }
  return undefined;
}

export async function ensureProjectEntry(o: { project: string; nodeIp: string; nodePort: number; stateDir: string }): Promise<EntryRecord> {
  const name = `entry-${o.project}`;
  const previous = readEntryRecord(o.stateDir, o.project);
  const argvFor = (hostPort: number) => entryArgv(o.nodeIp, hostPort, o.nodePort);
  const running = await livePid(name, 'socat');
  if (running && previous) {
    if ((await cmdline(running))?.join('\0') === argvFor(previous.hostPort).join('\0') && previous.nodePort === o.nodePort) return previous;
    await stopDaemon(name, 'socat', 5000);
  }
  let hostPort = previous && (await portFree('127.0.0.1', previous.hostPort)) ? previous.hostPort : 0;
  const others = new Set(entryRecords(o.stateDir).filter((r) => r.project !== o.project).map((r) => r.hostPort));
  for (let p = ENTRY_HOST_PORT + 1; !hostPort && p < ENTRY_HOST_PORT + 100; p++) {
    if (!others.has(p) && (await portFree('127.0.0.1', p))) hostPort = p;
  }
  if (!hostPort) throw new StackportError(`no free host port from ${ENTRY_HOST_PORT + 1} to ${ENTRY_HOST_PORT + 99} for ${o.project}'s entry`);
  await startDaemon({ name, argv: argvFor(hostPort), log: path.join(o.stateDir, 'logs', `${name}.log`) });
  // the forwarder is spawned, not yet listening: wait until it is (seen: a check 48 ms later was refused)
  await waitFor(`${o.project}'s entry 127.0.0.1:${hostPort} to listen`, async () => !(await portFree('127.0.0.1', hostPort)), { timeoutMs: 15_000, intervalMs: 100 });
  const rec = { project: o.project, hostPort, nodePort: o.nodePort };
  mkdirSync(o.stateDir, { recursive: true });
  writeFileSync(recordFile(o.stateDir, o.project), `${JSON.stringify(rec, null, 2)}\n`);
  return rec;
}

/** Stops a project's entry forwarder and forgets its record (the namespace is gone). */
export async function removeProjectEntry(stateDir: string, project: string): Promise<void> {
  await stopDaemon(`entry-${project}`, 'socat', 5000);
  rmSync(recordFile(stateDir, project), { force: true });
}
