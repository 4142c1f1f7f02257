import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../exec/run.js';
import { layerFromDir } from './image-archive.js';
import { unmountUnder } from '../host/mounts.js';

/**
 * A Debian bookworm base layer made with debootstrap (no registry needed): for images whose
 * program needs tools, like kube-proxy, which runs iptables/iptables-restore and conntrack.
 * The rootfs is packed once into a tarball in the cache and reused as the bottom layer.
 */
export const KUBE_PROXY_PACKAGES = ['iptables', 'conntrack', 'iproute2', 'kmod'];

/** The Debian mirror apt is configured with (deb822 or one-line format); deb.debian.org otherwise. */
export async function debianMirror(): Promise<string> {
  const texts: string[] = [];
  for (const dir of ['/etc/apt/sources.list.d']) {
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      if (f.endsWith('.sources') || f.endsWith('.list')) texts.push(await readFile(join(dir, f), 'utf8').catch(() => ''));
    }
  }
  texts.push(await readFile('/etc/apt/sources.list', 'utf8').catch(() => ''));
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const t = line.trim();
      if (t.startsWith('#')) continue;
      const deb822 = /^URIs:\s*(\S+)/.exec(t);
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(t);
      const uri = deb822?.[1] ?? oneLine?.[1];
      if (uri && !uri.includes('security')) return uri;
    }
  }
  return 'http://deb.debian.org/debian';
}

export async function buildDebianBase(out: string, packages: string[], logDir: string, onOutput?: (c: string) => void): Promise<void> {
  try {
    await stat(out);
    return;
  } catch {
    /* build it */
  }
  const dir = join(dirname(out), 'debian-bookworm.rootfs');
  // a killed debootstrap can leave /proc, /sys or /dev mounted inside the target: never rm through them
  await unmountUnder([dir]);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  try {
    await run(['debootstrap', '--variant=minbase', `--include=${packages.join(',')}`, 'bookworm', dir, await debianMirror()], {
      what: 'debootstrap bookworm (base for kube-proxy)',
      hint: 'apt-get install debootstrap; the Debian mirror must be reachable',
      timeoutMs: 20 * 60_000,
      onOutput,
    });
    // smaller layer: package caches and lists are not needed at run time
    for (const p of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/locale']) {
      await rm(join(dir, p), { recursive: true, force: true });
      await mkdir(join(dir, p), { recursive: true });
    }
    await layerFromDir(dir, out, true);
  } finally {
    await unmountUnder([dir]);
    await rm(dir, { recursive: true, force: true });
  }
}
