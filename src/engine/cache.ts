import os from 'node:os';
import path from 'node:path';

/** Root of stackport's build cache: STACKPORT_CACHE, else $XDG_CACHE_HOME/stackport, else ~/.cache/stackport. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STACKPORT_CACHE) return path.resolve(env.STACKPORT_CACHE);
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'stackport');
}
