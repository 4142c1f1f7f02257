/**
 * The files of one update as a tar archive laid out from the container's root (extracted with
 * `tar -x -C /`, or `docker cp - ctr:/`). File entries only, no directory entries: an
 * extraction by the container's non-root user then never tries to change a directory it does
 * not own (/app, /usr).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../exec/run.js';

export interface Placed {
  /** File on this machine. */
  from: string;
  /** Absolute path in the container. */
  to: string;
}

export async function tarOf(files: Placed[]): Promise<Buffer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stackport-dev-'));
  try {
    const root = path.join(dir, 'root');
    const names = files.map((f) => {
      const rel = f.to.replace(/^\/+/, '');
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      copyFileSync(f.from, path.join(root, rel));
      return rel;
    });
    const archive = path.join(dir, 'files.tar');
    await run(['tar', '-cf', archive, '--no-recursion', '--owner=0', '--group=0', '-C', root, '--', ...names], { what: 'tar (files to copy)' });
    return readFileSync(archive);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
