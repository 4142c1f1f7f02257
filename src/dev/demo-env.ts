/**
 * A copy of the demo (compose.yaml, web/, api/ in a temp dir, as the dev-loop e2e test and
 * `make bench-dev` edit it) is another project to the loader: its .env is not generated as the
 * demo's compose/.env is. This writes one the same way (credentials, and the image variables
 * of the image source in use: the Debian drop-ins where no registry answers).
 */
import { chooseImageSource, DEBIAN, OFFICIAL } from '../engine/images.js';
import { ensureEnvFile } from '../stack/env-file.js';
import { SilentProgress } from '../ui/progress.js';

export async function writeDemoEnv(file: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { source } = await chooseImageSource({ requested: env.STACKPORT_IMAGES, progress: new SilentProgress() });
  ensureEnvFile(file, source === 'debian' ? DEBIAN : OFFICIAL, source);
}
