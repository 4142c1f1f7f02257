import { open, readFile, rm } from 'node:fs/promises';
import { waitFor } from '../../exec/wait.js';
import { isAlive } from './daemon.js';

/**
 * One `up`/`down` at a time on a host: an exclusive lock file holding the owner's pid. A lock
 * whose owner is gone (a killed run) is taken over; a live owner is waited for (10 min).
 */
export const LOCK_FILE = '/run/stackport.lock';

/** Takes the lock if it is free or its owner is gone; else the owner's pid. */
async function tryLock(file: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.write(`${process.pid}\n`);
      await fh.close();
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (owner && isAlive(owner) && owner !== process.pid) return owner;
      await rm(file, { force: true });
    }
  }
  return Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10) || -1;
}

export async function withHostLock<T>(fn: () => Promise<T>, file = LOCK_FILE, timeoutMs = 10 * 60_000): Promise<T> {
  await waitFor(
    'the host lock',
    async (ctl) => {
      const owner = await tryLock(file);
      if (owner === undefined) return true;
      ctl.seen(`held by pid ${owner}`);
      return false;
    },
    {
      timeoutMs,
      intervalMs: 1000,
      message: 'another stackport cluster command is still running',
      hint: `wait for it, or remove ${file} if it is gone`,
    },
  );
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
