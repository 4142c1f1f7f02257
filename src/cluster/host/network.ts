import { writeFile } from 'node:fs/promises';
import { probe, run } from '../../exec/run.js';
import { POD_SUBNET, SERVICE_SUBNET } from './cni.js';

/**
 * Host networking the cluster needs and owns:
 * - sysctls: IPv4 forwarding, bridged traffic through iptables (kube-proxy's Service NAT for
 *   pod → Service → pod on the same bridge);
 * - a STACKPORT-FORWARD chain jumped to from FORWARD that accepts pod-network traffic, because
 *   dockerd sets the FORWARD policy to DROP whenever it starts (before or after us). Docker's own
 *   jumps only filter docker bridges, so our accept works wherever it sits in FORWARD.
 * - a STACKPORT-SERVICES chain, jumped to from OUTPUT and from STACKPORT-FORWARD, that refuses
 *   traffic still addressed to the Service range after NAT: kube-proxy's DNAT has already
 *   rewritten every programmed ClusterIP, so what is left is a Service kube-proxy has not
 *   programmed yet (the minutes after a reboot, before kube-proxy runs). Without it such a
 *   connection follows the default route and reaches this host's TLS interceptor, which answers;
 *   the API server then keeps that connection for the metrics APIService and metrics never
 *   become available (CI, after the restart proof). Refused, the API server retries and gets the
 *   real endpoint once kube-proxy has written its rule.
 * Cleanup removes our chains and every KUBE-*, CNI-* chain the kubelet, kube-proxy and CNI made.
 */
export const FORWARD_CHAIN = 'STACKPORT-FORWARD';
export const SERVICES_CHAIN = 'STACKPORT-SERVICES';

export async function nodeIp(): Promise<string> {
  const r = await run(['ip', '-4', '-j', 'route', 'show', 'default'], { what: 'ip route show default' });
  const routes = JSON.parse(r.stdout || '[]') as { dev?: string; prefsrc?: string }[];
  const dev = routes[0]?.dev;
  const addrs = JSON.parse((await run(['ip', '-4', '-j', 'addr', 'show', ...(dev ? ['dev', dev] : [])])).stdout) as {
    ifname: string;
    addr_info: { local: string; scope: string }[];
  }[];
  for (const a of addrs) for (const i of a.addr_info) if (i.scope === 'global') return i.local;
  throw new Error('no global IPv4 address for the node');
}

export async function enableForwarding(): Promise<void> {
  const set = async (key: string, value: string) => {
    await writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value).catch(() => undefined);
  };
  await set('net.ipv4.ip_forward', '1');
  await set('net.bridge.bridge-nf-call-iptables', '1');
  await set('net.bridge.bridge-nf-call-ip6tables', '1');
}

/** The rules of STACKPORT-SERVICES: refuse what is still addressed to the Service range after NAT. */
export function serviceRejectRules(serviceSubnet = SERVICE_SUBNET): string[][] {
  return [
    ['-d', serviceSubnet, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ['-d', serviceSubnet, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
  ];
}

/** The chains the host needs, with their rules in order. */
export function ownChains(): Map<string, string[][]> {
  return new Map([
    [SERVICES_CHAIN, serviceRejectRules()],
    [FORWARD_CHAIN, [['-j', SERVICES_CHAIN], ['-s', POD_SUBNET, '-j', 'ACCEPT'], ['-d', POD_SUBNET, '-j', 'ACCEPT']]],
  ]);
}

/** Built-in chain -> our chain it must jump to first. */
const JUMPS: [string, string][] = [
  ['OUTPUT', SERVICES_CHAIN],
  ['FORWARD', FORWARD_CHAIN],
];

/**
 * iptables-restore input (for --noflush) that puts the given chains in their wanted state and
 * inserts the missing jumps. Declaring a chain replaces its rules, and the whole input is one
 * transaction: no one ever sees a chain empty or half-written.
 */
export function filterRestoreInput(stale: string[], missingJumps: [string, string][], chains = ownChains()): string {
  const lines = ['*filter'];
  for (const name of stale) lines.push(`:${name} - [0:0]`);
  for (const name of stale) for (const rule of chains.get(name) ?? []) lines.push(`-A ${name} ${rule.join(' ')}`);
  for (const [from, to] of missingJumps) lines.push(`-I ${from} 1 -j ${to}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * Puts STACKPORT-SERVICES and STACKPORT-FORWARD in their wanted state, and changes nothing when
 * they already are. Both matter on a running cluster: kube-router's policy sync saves the whole
 * filter table and restores it later, so a chain that was flushed and refilled in separate
 * commands could be saved empty in between and restored empty (CI: STACKPORT-SERVICES found
 * empty after a `cluster up` on a running cluster). So: compare first, then one atomic restore.
 */
export async function ensureForwardAccept(): Promise<void> {
  const chains = ownChains();
  const stale: string[] = [];
  for (const [name, rules] of chains) {
    const listed = await probe(['iptables', '-w', '-S', name]);
    const want = [`-N ${name}`, ...rules.map((r) => `-A ${name} ${r.join(' ')}`)].join('\n');
    if (listed.exitCode !== 0 || listed.stdout.trim() !== want) stale.push(name);
  }
  const missingJumps: [string, string][] = [];
  for (const [from, to] of JUMPS) {
    if ((await probe(['iptables', '-w', '-C', from, '-j', to])).exitCode !== 0) missingJumps.push([from, to]);
  }
  if (stale.length === 0 && missingJumps.length === 0) return;
  await run(['iptables-restore', '-w', '--noflush'], { input: filterRestoreInput(stale, missingJumps, chains), what: 'iptables-restore (host network chains)' });
}

/** Chains created by the cluster, never Docker's. */
export function ownedChain(name: string): boolean {
  return /^(KUBE-|CNI-|STACKPORT-)/.test(name);
}

/**
 * Removes every rule that jumps to an owned chain from the built-in chains, then flushes and
 * deletes the owned chains, in every table, for iptables and ip6tables. Also drops the nftables
 * tables kube-proxy may create (kube-proxy / kube-proxy-canary style names).
 */
export async function removeOwnedIptables(): Promise<void> {
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const listed = await probe([tool, '-w', '-t', table, '-S']);
      if (listed.exitCode !== 0) continue;
      const lines = listed.stdout.split('\n');
      const owned = lines.filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim()).filter(ownedChain);
      for (const l of lines) {
        const m = /^-A (\S+) (.*)$/.exec(l);
        if (!m || ownedChain(m[1]!)) continue;
        const target = /-j (\S+)/.exec(m[2]!)?.[1];
        if (target && ownedChain(target)) {
          await probe([tool, '-w', '-t', table, '-D', m[1]!, ...splitRule(m[2]!)]);
        }
      }
      for (const c of owned) await probe([tool, '-w', '-t', table, '-F', c]);
      for (const c of owned) await probe([tool, '-w', '-t', table, '-X', c]);
    }
  }
  // nft missing (probe answers 127): nothing can have made nftables tables with it; skip
  const nft = await probe(['nft', 'list', 'tables']);
  if (nft.exitCode === 0) {
    for (const line of nft.stdout.split('\n')) {
      const m = /^table (ip|ip6|inet) (kube-proxy\S*)$/.exec(line.trim());
      if (m) await probe(['nft', 'delete', 'table', m[1]!, m[2]!]);
    }
  }
  await removeOwnedIpsets();
}

/** ipsets of the policy engine (kube-router: KUBE-SRC-*, KUBE-DST-*, their inet6: twins), never anyone else's. */
export function ownedIpset(name: string): boolean {
  return /^(inet6:)?KUBE-(SRC|DST)-/.test(name);
}

/** After the chains that referenced them are gone: a set in use cannot be destroyed. */
export async function removeOwnedIpsets(): Promise<void> {
  const sets = await probe(['ipset', 'list', '-n']);
  if (sets.exitCode !== 0) return; // no ipset program: the host has none of ours to list
  for (const name of sets.stdout.split('\n').map((l) => l.trim()).filter(ownedIpset)) await probe(['ipset', 'destroy', name]);
}

/** Splits an iptables -S rule body into argv, honouring double quotes (comments). */
export function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

export async function linkExists(name: string): Promise<boolean> {
  return (await probe(['ip', 'link', 'show', name])).exitCode === 0;
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await probe(['ip', 'link', 'delete', name]);
}
