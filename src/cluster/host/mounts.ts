import { readFile } from 'node:fs/promises';
import { probe } from '../../exec/run.js';

/** Mount points (decoded) from /proc/self/mounts, in mount order. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[1]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export function isUnder(path: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return path === p || path.startsWith(`${p}/`);
}

/** Mounts at or below any of the prefixes, deepest first (the order to unmount them). */
export async function mountsUnder(prefixes: string[]): Promise<string[]> {
  const all = await mountPoints();
  const hits = all.filter((m) => prefixes.some((p) => isUnder(m, p)));
  return [...hits].reverse();
}

/**
 * Unmounts everything at or below the prefixes (deepest first; a mount point mounted twice is
 * unmounted until it is gone). Returns what is still mounted afterwards.
 */
export async function unmountUnder(prefixes: string[]): Promise<string[]> {
  for (let round = 0; round < 5; round++) {
    const list = await mountsUnder(prefixes);
    if (list.length === 0) return [];
    for (const m of list) {
      const r = await probe(['umount', m]);
      if (r.exitCode !== 0) await probe(['umount', '-l', m]);
    }
  }
  return mountsUnder(prefixes);
}
