/** The rebuild half of an update: one service's image, with the layer cache, as Compose builds it. */
import path from 'node:path';
import { run } from '../exec/run.js';
import { imageId } from '../engine/images.js';
import { composeArgs, type Stack } from '../stack/stack.js';

export function composeArgv(stack: Stack, ...args: string[]): string[] {
  return [...stack.cli.argv, ...composeArgs(stack), ...args];
}

export function composeRunOptions(stack: Stack) {
  return { cwd: path.dirname(stack.composeFile), env: { ...stack.env, DOCKER_BUILDKIT: stack.env.DOCKER_BUILDKIT ?? '0', COMPOSE_BAKE: 'false' } };
}

/** Builds the image; returns the engine IDs before and after (equal when nothing changed). */
export async function buildService(stack: Stack, service: string, image: string, update: (d: string) => void = () => undefined): Promise<{ before?: string; after: string }> {
  const before = await imageId(image);
  await run(composeArgv(stack, 'build', service), {
    ...composeRunOptions(stack),
    what: `compose build ${service}`,
    timeoutMs: 15 * 60_000,
    onOutput: (c) => update(c.trim().split('\n').pop()?.slice(0, 80) ?? ''),
  });
  const after = await imageId(image);
  return { before, after: after ?? '' };
}
