import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HOST } from '../build/cache.js';

export const POD_SUBNET = '10.244.0.0/16';
export const NODE_POD_RANGE = '10.244.0.0/24';
export const SERVICE_SUBNET = '10.96.0.0/12';
export const BRIDGE = 'cni0';
export const CNI_NETWORK = 'stackport';

/**
 * One-node pod network: a Linux bridge (cni0) with host-local IPAM, NAT to the outside (ipMasq),
 * hairpin so a pod reaches itself through its Service, portmap for hostPort, and the firewall
 * plugin, which accepts the pod's traffic in FORWARD (dockerd sets the FORWARD policy to DROP).
 * cniVersion 1.0.0 is the newest both containerd 1.6/2.x and plugins 1.7 accept.
 */
export function conflist(): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: CNI_NETWORK,
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: HOST.cniDataDir,
            ranges: [[{ subnet: NODE_POD_RANGE }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'firewall', backend: 'iptables' },
      ],
    },
    null,
    2,
  )}\n`;
}

export async function writeCniConfig(): Promise<void> {
  await mkdir(HOST.cniConfDir, { recursive: true });
  // containerd reads the first file only (max_conf_num = 1): keep exactly ours
  for (const f of await readdir(HOST.cniConfDir)) await rm(join(HOST.cniConfDir, f), { force: true });
  await writeFile(join(HOST.cniConfDir, '10-stackport.conflist'), conflist());
}

export async function removeCniState(): Promise<void> {
  await rm(HOST.cniConfDir, { recursive: true, force: true });
  await rm(HOST.cniDataDir, { recursive: true, force: true });
  await rm(dirname(HOST.cniConfDir), { recursive: true, force: true });
}
