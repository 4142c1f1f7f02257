/**
 * A test project's Compose stack from nothing: the engine started if need be, the project's
 * containers, volumes and smoke record from an earlier run removed, then up and healthy.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ensureEngine } from '../../src/engine/engine.js';
import { markerFile } from '../../src/stack/commands.js';
import { prepareStack, removeProject, up, type Stack } from '../../src/stack/stack.js';
import type { Progress } from '../../src/ui/progress.js';

export async function freshStack(root: string, project: string, env: NodeJS.ProcessEnv, progress: Progress): Promise<Stack> {
  await ensureEngine({ logDir: path.join(root, '.stackport', 'logs') });
  await removeProject(project, progress, { volumes: true });
  rmSync(markerFile(path.join(root, '.stackport'), project), { force: true });
  const stack = await prepareStack({ root, progress, env });
  await up(stack);
  return stack;
}
