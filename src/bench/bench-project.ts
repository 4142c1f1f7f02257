/**
 * The Compose project the benches run their stack under (WEB_PORT 18095), apart from the user's.
 * It goes when the bench ends, however it ends: its containers have restart policies, so a
 * leftover would come back with every dockerd start and take CPU from everything after.
 */
import { removeProject } from '../stack/stack.js';
import { SilentProgress } from '../ui/progress.js';

export const BENCH_PROJECT = 'stackport-bench';

export async function inBenchProject<T>(bench: () => Promise<T>): Promise<T> {
  try {
    return await bench();
  } finally {
    await removeProject(BENCH_PROJECT, new SilentProgress(), { volumes: true }).catch(() => undefined);
  }
}
