import { open, readFile, rm } from 'node:fs/promises';
import { StackportError } from '../errors.js';
import { isAlive } from './daemon.js';

/**
 * One `up`/`down` at a time on a host: an exclusive lock file holding the owner's pid. A lock
 * whose owner is gone (a killed run) is taken over.
 */
export const LOCK_FILE = '/run/stackport.lock';

export async function withHostLock<T>(fn: () => Promise<T>, file = LOCK_FILE): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.write(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (!owner || !isAlive(owner) || owner === process.pid) {
        await rm(file, { force: true });
        continue;
      }
      if (attempt > 600) {
        throw new StackportError(`another stackport cluster command (pid ${owner}) is still running`, { hint: `wait for it, or remove ${file} if it is gone` });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
