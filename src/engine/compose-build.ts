/**
 * Builds Docker Compose v2 from its Go module (Debian 12 packages only v1) and caches the
 * binary under <cache>/compose-<version>/docker-compose.
 *
 * v2.35.0: the newest v2 tag whose go.mod has no replace/exclude (so `go install …@v` works)
 * and whose Docker client negotiates down to Engine 20.10 (API 1.41).
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { probe, run, which } from '../exec/run.js';
import type { Progress } from '../ui/progress.js';

export const COMPOSE_V2_VERSION = 'v2.35.0';
const MODULE = 'github.com/docker/compose/v2';

export function composeV2Path(cacheDir: string, version = COMPOSE_V2_VERSION): string {
  return path.join(cacheDir, `compose-${version}`, 'docker-compose');
}

export async function canBuildComposeV2(): Promise<boolean> {
  if (!(await which('go'))) return false;
  const r = await probe(['go', 'env', 'GOVERSION']);
  const m = /go1\.(\d+)/.exec(r.stdout);
  return Boolean(m && Number(m[1]) >= 23);
}

export async function buildComposeV2(cacheDir: string, progress: Progress, version = COMPOSE_V2_VERSION): Promise<string> {
  const target = composeV2Path(cacheDir, version);
  if (existsSync(target)) return target;
  if (!(await canBuildComposeV2())) {
    throw new StackportError(`cannot build Docker Compose ${version}: Go 1.23 or newer is not on PATH`, {
      hint: 'install Compose v2 (https://docs.docker.com/compose/install/), or use v1 with STACKPORT_COMPOSE=v1',
    });
  }
  const dir = path.dirname(target);
  const gobin = path.join(dir, 'bin.tmp');
  mkdirSync(gobin, { recursive: true });
  await progress.step(`build Docker Compose ${version} from its Go module`, async () => {
    await run(
      ['go', 'install', '-trimpath', '-ldflags', `-s -w -X ${MODULE}/internal.Version=${version}`, `${MODULE}/cmd@${version}`],
      {
        what: `go install ${MODULE}/cmd@${version}`,
        env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local', GOFLAGS: '-buildvcs=false' },
        timeoutMs: 1_800_000,
      },
    );
    renameSync(path.join(gobin, 'cmd'), target);
  });
  return target;
}
