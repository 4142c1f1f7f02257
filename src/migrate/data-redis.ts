/**
 * Redis: its volume is copied as files (src/migrate/data-files.ts) after a SAVE, so the RDB
 * snapshot (and the append-only file, when on) holds every key; the key count (DBSIZE over
 * every database) is compared on both sides after the cluster's Redis loaded it.
 */
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import type { Kubectl } from '../cluster/kubectl.js';
import type { Stack } from '../stack/stack.js';
import { execIn } from '../stack/stack.js';

/** Keys over every database: the sum of `keys=N` in INFO keyspace. */
export function parseKeyspace(info: string): number {
  let n = 0;
  for (const m of info.matchAll(/^db\d+:keys=(\d+)/gm)) n += Number(m[1]);
  return n;
}

const CLI = 'redis-cli ${REDIS_PASSWORD:+-a "$REDIS_PASSWORD" --no-auth-warning}';

export async function redisSave(stack: Stack, service: string): Promise<void> {
  const out = await execIn(stack, service, ['sh', '-c', `${CLI} SAVE`]);
  if (!/OK/.test(out)) throw new StackportError(`Redis ${service}: SAVE answered ${JSON.stringify(out.trim())}`, { hint: 'the volume was not copied' });
}

export async function redisKeys(stack: Stack, service: string): Promise<number> {
  return parseKeyspace(await execIn(stack, service, ['sh', '-c', `${CLI} INFO keyspace`]));
}

export async function redisKeysInPod(k: Kubectl, ns: string, pod: string): Promise<number> {
  const r = await probe([k.binary, '--kubeconfig', k.kubeconfig, 'exec', '-n', ns, pod, '--', 'sh', '-c', `${CLI} INFO keyspace`]);
  if (r.exitCode !== 0) throw new StackportError(`Redis in ${pod}: INFO failed`, { details: `${r.stdout}${r.stderr}` });
  return parseKeyspace(r.stdout);
}
