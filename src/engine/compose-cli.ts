/**
 * Picks the Compose implementation: v2 (`docker compose` plugin, a `docker-compose` v2
 * binary, or stackport's cached build from the Go module), else v1 `docker-compose`.
 * STACKPORT_COMPOSE=v1|v2|auto overrides.
 */
import type { IDockerComposeExecutableOptions } from 'docker-compose';
import { StackportError } from '../errors.js';
import { probe, which } from '../exec/run.js';
import type { Progress } from '../ui/progress.js';
import { aptInstall, isDebianLike, isRoot } from './engine.js';
import { buildComposeV2, canBuildComposeV2, composeV2Path } from './compose-build.js';
import { existsSync } from 'node:fs';

export interface ComposeCli {
  generation: 'v1' | 'v2';
  version: string;
  /** argv prefix to run it: ['docker', 'compose'] or ['/path/docker-compose']. */
  argv: string[];
  /** How the npm docker-compose package should run it. */
  executable: IDockerComposeExecutableOptions;
  /** Where it came from, for the output. */
  origin: string;
}

async function versionOf(argv: string[]): Promise<string | undefined> {
  const r = await probe([...argv, 'version', '--short']).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  const v = r.stdout.trim().split('\n')[0] ?? '';
  return v.replace(/^v/, '') || undefined;
}

function cli(argv: string[], version: string, origin: string): ComposeCli {
  const generation = /^1\./.test(version) ? 'v1' : 'v2';
  const executable: IDockerComposeExecutableOptions =
    argv[0] === 'docker' ? { executablePath: 'docker' } : { standalone: true, executablePath: argv[0] };
  return { generation, version, argv, executable, origin };
}

export interface FindComposeOptions {
  requested?: string;
  cacheDir: string;
  progress: Progress;
  /** Only what is there: never build Compose v2 or apt-install v1 (dry runs, status). */
  readOnly?: boolean;
}

export async function findCompose(options: FindComposeOptions): Promise<ComposeCli> {
  const want = (options.requested ?? 'auto').toLowerCase();
  if (!['auto', 'v1', 'v2'].includes(want)) {
    throw new StackportError(`STACKPORT_COMPOSE=${options.requested} is not known`, { hint: 'use v1, v2 or auto' });
  }
  if (want !== 'v1') {
    const plugin = await versionOf(['docker', 'compose']);
    if (plugin && !plugin.startsWith('1.')) return cli(['docker', 'compose'], plugin, 'docker compose plugin');
    // stackport's own build exists only because no v2 was found before: use it without
    // probing PATH again (Debian's Python v1 takes a second just to print its version).
    const built = composeV2Path(options.cacheDir);
    if (existsSync(built)) {
      const v = await versionOf([built]);
      if (v) return cli([built], v, `built from its Go module (${built})`);
    }
    const standalone = (await which('docker-compose')) ? await versionOf(['docker-compose']) : undefined;
    if (standalone && !standalone.startsWith('1.')) return cli(['docker-compose'], standalone, 'docker-compose on PATH');
    const cached = composeV2Path(options.cacheDir);
    if (!options.readOnly && (existsSync(cached) || (await canBuildComposeV2()))) {
      const bin = await buildComposeV2(options.cacheDir, options.progress);
      const v = await versionOf([bin]);
      if (v) return cli([bin], v, `built from its Go module (${bin})`);
    }
    if (want === 'v2') {
      throw new StackportError('Compose v2 is not available and cannot be built here (no Go 1.23+)', {
        hint: 'install the Docker Compose plugin, or run with STACKPORT_COMPOSE=v1',
      });
    }
  }
  let v1 = (await which('docker-compose')) ? await versionOf(['docker-compose']) : undefined;
  if (!v1 && !options.readOnly && isRoot() && isDebianLike() && (await which('apt-get'))) {
    await aptInstall(['docker-compose'], options.progress);
    v1 = await versionOf(['docker-compose']);
  }
  if (v1 && v1.startsWith('1.')) return cli(['docker-compose'], v1, 'docker-compose v1 (Debian package)');
  if (v1) return cli(['docker-compose'], v1, 'docker-compose on PATH');
  throw new StackportError('no Docker Compose found (neither `docker compose` nor `docker-compose`)', {
    hint: 'install Docker Compose: https://docs.docker.com/compose/install/ (Debian: apt-get install docker-compose)',
  });
}
