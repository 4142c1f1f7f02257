/**
 * The Compose stack's lifecycle: prepare (engine, Compose, images, env file, checks), up
 * (build what changed, start, wait until healthy), down, clean, status, logs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as compose from 'docker-compose';
import { CommandError, StackportError, tail } from '../errors.js';
import { waitFor } from '../exec/wait.js';
import { run } from '../exec/run.js';
import { engineVersion, ensureEngine, type EngineInfo } from '../engine/engine.js';
import { findCompose, type ComposeCli } from '../engine/compose-cli.js';
import { chooseImageSource, DEBIAN, ensureDropIns, imageId, OFFICIAL, type ImageSource } from '../engine/images.js';
import { cacheRoot } from '../engine/cache.js';
import type { Progress } from '../ui/progress.js';
import { ensureEnvFile, PROJECT } from './env-file.js';
import { loadProject, readComposeFiles, type ComposeSources } from '../compose/load.js';
import type { LoadedProject } from '../k8s/generate.js';
import { resolvedConfig, type PublishedPort, type ResolvedConfig, type ResolvedService } from './resolved-config.js';
import { tcpConnect } from '../smoke/run.js';
import { containerLogTail, projectContainers, serviceState, type ContainerState } from './containers.js';
import { portFree, portHolder } from './ports.js';
import { chooseProject, composeFilesFrom, type ProjectChoice } from './project.js';
import { provideImages } from './provide-images.js';
import { smokeDeclarations, type SmokeCheck } from '../smoke/declarations.js';

export interface StackOptions {
  root: string;
  progress: Progress;
  /** One file or several (-f a -f b, merged in order); default COMPOSE_FILE, else the demo's. */
  composeFile?: string | string[];
  envFile?: string;
  project?: string;
  /** Environment for Compose (interpolation, e.g. WEB_PORT) and for choosing implementations. */
  env?: NodeJS.ProcessEnv;
  /** Logs, build state and smoke markers (default <root>/.stackport). */
  stateDir?: string;
  /**
   * Change nothing (migrate --dry-run): use the engine, Compose, images and compose/.env that are
   * there, or refuse; never start dockerd, apt-install, build Compose or images, or write the .env.
   */
  readOnly?: boolean;
}

export interface Stack {
  root: string;
  /** The first Compose file (its directory is the project directory). */
  composeFile: string;
  /** Every Compose file, in merge order. */
  composeFiles: string[];
  /** The demo's own compose/compose.yaml (generated .env, *_IMAGE variables). */
  demo: boolean;
  displayFile: string;
  envFile: string;
  project: string;
  stateDir: string;
  cli: ComposeCli;
  engine: EngineInfo;
  imageSource: ImageSource;
  config: ResolvedConfig;
  progress: Progress;
  env: NodeJS.ProcessEnv;
  /** The smoke checks the files declare (x-stackport.smoke), checked before anything started. */
  smoke: SmokeCheck[];
  /** src/compose's model of the files, loaded once by prepareStack: `config`, migrate and dev take it from here. */
  loaded: LoadedProject;
}

/**
 * The stack's Compose model: prepareStack loads it once and keeps it on the stack (stack.config,
 * migrate's generate, dev's start and its cluster deploy all take it from there). A stack made
 * elsewhere (a test's) is loaded on first use.
 */
export function loadedProject(stack: Pick<Stack, 'composeFiles' | 'envFile' | 'project' | 'env' | 'root'> & { loaded?: LoadedProject }): LoadedProject {
  return (stack.loaded ??= loadProject({ files: stack.composeFiles, envFile: stack.envFile, projectName: stack.project, env: stack.env, displayBase: stack.root }));
}

/** The Compose files of a stack, read once, and what is known from them before anything starts. */
export interface StackFiles {
  files: string[];
  /** The parsed trees; loadProject takes them (`sources`) instead of reading the files again. */
  sources: ComposeSources;
  choice: ProjectChoice;
  smoke: SmokeCheck[];
}

/**
 * Reads each Compose file once (src/compose's parser: YAML problems at file:line:col, exit 2), takes
 * the project's name and the smoke declarations from those trees. Changes nothing: a malformed file or
 * smoke declaration stops the command here, before the engine is even looked for.
 */
export function loadStackFiles(options: Pick<StackOptions, 'root' | 'composeFile' | 'env' | 'project'>): StackFiles {
  const env = options.env ?? process.env;
  const given = typeof options.composeFile === 'string' ? [options.composeFile] : options.composeFile;
  const files = composeFilesFrom({ root: options.root, files: given, env });
  for (const f of files) {
    if (!existsSync(f)) throw new StackportError(`${path.relative(process.cwd(), f) || f}: no such file`, { hint: 'pass the path of a Compose file with -f', exitCode: 2 });
  }
  const sources = readComposeFiles(files, { displayBase: options.root });
  const nameOf = (f: string) => {
    const n = sources.get(f)?.entries.get('name')?.value;
    return n?.kind === 'scalar' && typeof n.value === 'string' && !n.value.includes('$') ? n.value : undefined;
  };
  const choice = chooseProject({ root: options.root, files: given, env, project: options.project, nameOf });
  // A malformed smoke declaration stops here, before anything starts.
  const smoke = smokeDeclarations(files.map((f) => sources.get(f)!));
  return { files, sources, choice, smoke };
}

/**
 * The one load of a run, from the trees loadStackFiles read (no file is read again): Compose's
 * semantics checked (every problem at file:line:col, exit 2), the model prepareStack keeps on the
 * stack (`loaded`), and what the stack commands use (`config`).
 */
export function loadStackModel(files: Pick<StackFiles, 'files' | 'sources'>, o: { envFile: string; project: string; env: NodeJS.ProcessEnv; root: string }): { loaded: LoadedProject; config: ResolvedConfig } {
  const loaded = loadProject({ files: files.files, envFile: o.envFile, projectName: o.project, env: o.env, displayBase: o.root, sources: files.sources });
  return { loaded, config: resolvedConfig(loaded) };
}

/** Everything `up` needs before it changes anything. Fails early, with nothing changed. */
export async function prepareStack(options: StackOptions): Promise<Stack> {
  const env = options.env ?? process.env;
  const { progress, root } = options;
  const files = loadStackFiles(options);
  const { files: composeFiles, choice: choice0, smoke } = files;
  const composeFile = composeFiles[0]!;
  const demo = choice0.demo;
  const displayFile = composeFiles.map((f) => path.relative(process.cwd(), f) || f).join(', ');
  const project = choice0.name;
  const stateDir = options.stateDir ?? path.join(root, '.stackport');
  // The demo's .env is generated beside its file; another project's own .env (if any) is read
  // as Compose reads it, through a private copy, so nothing is written into the user's tree.
  const envFile = path.resolve(options.envFile ?? (demo ? path.join(path.dirname(composeFile), '.env') : path.join(stateDir, 'projects', `${project}.env`)));
  const cache = cacheRoot(env);

  const engine = options.readOnly ? await runningEngine() : await ensureEngine({ progress, logDir: path.join(stateDir, 'logs') });
  progress.info(`engine: Docker ${engine.serverVersion} (API ${engine.apiVersion}, ${engine.how})`);
  const [cli, choice] = await Promise.all([
    findCompose({ requested: env.STACKPORT_COMPOSE, cacheDir: cache, progress, readOnly: options.readOnly }),
    chooseImageSource({ requested: env.STACKPORT_IMAGES, progress }),
  ]);
  progress.info(`compose: ${cli.generation} ${cli.version} (${cli.origin})`);
  if (!demo) progress.info(`project: ${project} (from ${choice0.nameFrom}); files: ${displayFile}`);
  if (demo) {
    progress.info(`images: ${choice.source} (${choice.why}; override with STACKPORT_IMAGES=official|debian)`);
    if (options.readOnly && !existsSync(envFile)) {
      throw new StackportError(`${path.relative(process.cwd(), envFile)} does not exist: the stack was never started here, and this command changes nothing`, { hint: 'run `make up` first' });
    }
    const images = choice.source === 'debian' ? (options.readOnly ? DEBIAN : await ensureDropIns(root, cache, progress)) : OFFICIAL;
    if (!existsSync(envFile)) {
      // New credentials cannot open old data: refuse rather than start a stack that cannot log in.
      const volumes = await projectVolumes(project);
      if (volumes.length) {
        throw new StackportError(`data volumes of project ${project} exist (${volumes.join(', ')}) but ${path.relative(process.cwd(), envFile)}, which holds their credentials, is missing`, {
          hint: `restore that file, or delete the old data with \`make clean\` (STACKPORT_PROJECT=${project}); nothing was changed`,
        });
      }
    }
    const { created } = options.readOnly ? { created: false } : ensureEnvFile(envFile, images, choice.source);
    if (created) progress.info(`credentials: generated ${path.relative(process.cwd(), envFile)} (mode 0600, git-ignored)`);
  } else if (!options.readOnly) {
    copyProjectEnv(choice0.projectDir, envFile);
  }

  // read-only (status, --dry-run): another project's own .env is read where it is, not copied
  const ownEnv = path.join(choice0.projectDir, '.env');
  const usedEnv = !demo && options.readOnly ? (existsSync(ownEnv) ? ownEnv : '/dev/null') : envFile;
  // The one load of the run, now that the demo's variables exist.
  const { loaded, config } = loadStackModel(files, { envFile: usedEnv, project, env, root });
  if (!demo && !options.readOnly) await provideImages(config, { root, cache, progress, source: choice.source, why: choice.why, file: displayFile });
  return { root, composeFile, composeFiles, demo, displayFile, envFile: usedEnv, project, stateDir, cli, engine, imageSource: choice.source, config, progress, env, smoke, loaded };
}

/** The project directory's .env, copied for --env-file (mode 0600); empty when there is none. */
function copyProjectEnv(projectDir: string, envFile: string): void {
  const source = path.join(projectDir, '.env');
  mkdirSync(path.dirname(envFile), { recursive: true });
  writeFileSync(envFile, existsSync(source) ? readFileSync(source) : '', { mode: 0o600 });
}

/** `-f a -f b -p project --env-file e`: every Compose call of this stack. */
export function composeArgs(stack: Pick<Stack, 'composeFiles' | 'project' | 'envFile'>): string[] {
  return [...stack.composeFiles.flatMap((f) => ['-f', f]), '-p', stack.project, '--env-file', stack.envFile];
}

/** The engine that answers now, or a refusal: a read-only command starts no dockerd. */
async function runningEngine(): Promise<EngineInfo> {
  const v = await engineVersion();
  if (!v) throw new StackportError('no Docker engine answers, and this command changes nothing (it starts no dockerd)', { hint: 'run `make up` first' });
  return { ...v, how: 'running' };
}

function composeOptions(stack: Stack, extra: Partial<compose.IDockerComposeOptions> = {}): compose.IDockerComposeOptions {
  return {
    cwd: path.dirname(stack.composeFile),
    config: stack.composeFiles,
    executable: stack.cli.executable,
    composeOptions: ['-p', stack.project, '--env-file', stack.envFile],
    env: { ...stack.env, DOCKER_BUILDKIT: stack.env.DOCKER_BUILDKIT ?? '0', COMPOSE_BAKE: 'false' },
    ...extra,
  };
}

/** Runs a docker-compose (npm) call; turns its rejection into a CommandError with the output. */
async function composeCall(stack: Stack, what: string, call: () => Promise<compose.IDockerComposeResult>): Promise<compose.IDockerComposeResult> {
  const started = Date.now();
  try {
    return await call();
  } catch (err) {
    const r = err as Partial<compose.IDockerComposeResult> & Error;
    if (typeof r.exitCode === 'number' || typeof r.err === 'string') {
      throw new CommandError(
        { argv: [...stack.cli.argv, what], exitCode: r.exitCode ?? null, signal: null, stdout: r.out ?? '', stderr: r.err ?? '', durationMs: Date.now() - started },
        { what: `${stack.cli.argv.join(' ')} ${what}` },
      );
    }
    throw err;
  }
}

// ---------------------------------------------------------------- build

function hashTree(dir: string, h = createHash('sha256'), base = dir): ReturnType<typeof createHash> {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist' || name === '.git') continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) hashTree(full, h, base);
    else h.update(path.relative(base, full)).update('\0').update(readFileSync(full)).update('\0');
  }
  return h;
}

export function buildKey(s: ResolvedService): string {
  if (!s.build) return '';
  const h = hashTree(s.build.context);
  h.update(JSON.stringify([s.build.dockerfile, Object.entries(s.build.args).sort()]));
  return h.digest('hex').slice(0, 16);
}

/** Builds the services whose build context, Dockerfile or args changed since the last build. */
export async function buildChanged(stack: Stack, force = false): Promise<string[]> {
  const stateFile = path.join(stack.stateDir, 'build-state.json');
  const state: Record<string, { key: string; image: string; id: string }> = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : {};
  const todo: ResolvedService[] = [];
  for (const s of stack.config.services) {
    if (!s.build) continue;
    const key = buildKey(s);
    const image = s.image ?? `${stack.project}-${s.name}`;
    const id = await imageId(image);
    const prev = state[s.name];
    if (force || !id || !prev || prev.key !== key || prev.id !== id || prev.image !== image) todo.push(s);
  }
  if (todo.length === 0) return [];
  const names = todo.map((s) => s.name);
  await stack.progress.step(`build ${names.join(', ')}`, async (update) => {
    await composeCall(stack, `build ${names.join(' ')}`, () =>
      compose.buildMany(names, composeOptions(stack, { callback: (chunk) => update(lastLine(chunk.toString())) })),
    );
  });
  for (const s of todo) {
    const image = s.image ?? `${stack.project}-${s.name}`;
    state[s.name] = { key: buildKey(s), image, id: (await imageId(image)) ?? '' };
  }
  mkdirSync(stack.stateDir, { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  return names;
}

function lastLine(chunk: string): string {
  const lines = chunk.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 80);
}

// ---------------------------------------------------------------- up

/** Published ports must be free, unless this stack already holds them. */
export async function checkPorts(stack: Stack): Promise<void> {
  const containers = await projectContainers(stack.project);
  for (const p of stack.config.services.flatMap((s) => s.ports)) {
    const ours = containers.some((c) => c.service === p.service && c.status === 'running' && c.ports.some((x) => x.startsWith(`${p.hostIp}:${p.published}->`)));
    if (ours) continue;
    if (await portFree(p.hostIp, p.published)) continue;
    const holder = await portHolder(p.published);
    throw new StackportError(
      `port ${p.hostIp}:${p.published} for service ${p.service} is already in use${holder ? ` by ${holder}` : ''}`,
      { hint: `stop whatever holds it, or publish elsewhere (e.g. WEB_PORT=${p.published + 1} make up); nothing was changed` },
    );
  }
}

export interface UpResult {
  built: string[];
  containers: ContainerState[];
}

export async function up(stack: Stack, options: { timeoutMs?: number; build?: boolean } = {}): Promise<UpResult> {
  await checkPorts(stack);
  const built = options.build === false ? [] : await buildChanged(stack);
  await stack.progress.step('start containers', async (update) => {
    try {
      await composeCall(stack, 'up -d --no-build', () =>
        compose.upAll(composeOptions(stack, { commandOptions: ['--no-build', '--remove-orphans'], callback: (c) => update(lastLine(c.toString())) })),
      );
    } catch (err) {
      // Usually a dependency that never got healthy: name it and show its logs.
      const failing = await failingServices(stack);
      if (failing) throw new StackportError(failing.message, { details: failing.details, hint: 'see `make logs`; the data volumes were not touched', cause: err });
      throw err;
    }
  });
  const containers = await stack.progress.step('wait until healthy', (update) => waitHealthy(stack, options.timeoutMs ?? 180_000, update));
  await publishedPortsAnswer(stack, 60_000);
  return { built, containers };
}

/**
 * A service without a healthcheck counts as up once its process runs, which is before it listens
 * (an nginx in front answers 502 until its upstreams do): its published ports are the next real sign.
 */
async function publishedPortsAnswer(stack: Stack, timeoutMs: number): Promise<void> {
  const ports = stack.config.services.filter((s) => !s.hasHealthcheck).flatMap((s) => s.ports.filter((p) => p.protocol === 'tcp'));
  if (ports.length === 0) return;
  const where = (p: PublishedPort) => (p.hostIp === '0.0.0.0' || p.hostIp === '::' || !p.hostIp ? '127.0.0.1' : p.hostIp);
  await stack.progress.step(`published ports of services without a healthcheck answer (${ports.length})`, () =>
    waitFor('the published ports of services without a healthcheck to answer', async () => {
      for (const p of ports) {
        await tcpConnect({ host: where(p), port: p.published, via: `published ${where(p)}:${p.published}` }).catch((e: Error) => {
          throw new Error(`${p.service}:${p.target} on ${where(p)}:${p.published}: ${e.message}`);
        });
      }
      return true;
    }, { timeoutMs, hint: 'see `make logs`; the data volumes were not touched' }),
  );
}

async function failingServices(stack: Stack): Promise<{ message: string; details: string } | undefined> {
  const containers = await projectContainers(stack.project);
  for (const s of stack.config.services) {
    const state = serviceState(containers, s.name, s.hasHealthcheck);
    if (state === 'unhealthy' || state.startsWith('exited') || state === 'restarting') {
      const c = containers.find((x) => x.service === s.name)!;
      return { message: `service ${s.name} did not become healthy (${state})`, details: `last log lines of ${c.name}:\n${await containerLogTail(c.id, 15)}` };
    }
  }
  return undefined;
}

export async function waitHealthy(stack: Stack, timeoutMs: number, update: (d: string) => void = () => undefined): Promise<ContainerState[]> {
  let waiting = '';
  let lastContainers: ContainerState[] = [];
  return waitFor('the services healthy', async (ctl) => {
    const containers = await projectContainers(stack.project);
    lastContainers = containers;
    const states = stack.config.services.map((s) => ({ s, state: serviceState(containers, s.name, s.hasHealthcheck) }));
    update(states.map(({ s, state }) => `${s.name} ${state}`).join(', '));
    const bad = states.find(({ s, state }) => {
      if (state === 'unhealthy' || state.startsWith('exited')) return true;
      const c = containers.find((x) => x.service === s.name);
      return state === 'restarting' && (c?.restartCount ?? 0) >= 3;
    });
    if (bad) {
      const c = containers.find((x) => x.service === bad.s.name)!;
      ctl.abort(new StackportError(`service ${bad.s.name} did not become healthy (${bad.state})`, {
        details: `last log lines of ${c.name}:\n${await containerLogTail(c.id, 15)}`,
        hint: 'see `make logs`; the data volumes were not touched',
      }));
    }
    if (states.every(({ state }) => state === 'healthy' || state === 'running')) return containers;
    waiting = states.filter(({ state }) => state !== 'healthy' && state !== 'running').map((w) => `${w.s.name} (${w.state})`).join(', ');
    ctl.seen(waiting);
    return undefined;
  }, {
    timeoutMs,
    intervalMs: 250,
    hint: 'see `make logs`',
    timeoutDetails: async () => {
      const first = waiting.split(' (')[0];
      const c = lastContainers.find((x) => x.service === first);
      return c ? `last log lines of ${c.name}:\n${await containerLogTail(c.id, 15)}` : undefined;
    },
  });
}

// ---------------------------------------------------------------- down, status, logs

export async function projectVolumes(project: string): Promise<string[]> {
  const r = await run(['docker', 'volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/**
 * Removes everything of a project by Compose's labels: containers, networks and volumes.
 * Works without the Compose file or its env file (a stack left by a killed or older run).
 */
export async function removeProject(project: string, progress: Progress, options: { volumes: boolean }): Promise<void> {
  const label = `label=com.docker.compose.project=${project}`;
  await progress.step(`remove project ${project} by its labels`, async () => {
    const ids = (await run(['docker', 'ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
    if (ids.length) await run(['docker', 'rm', '-f', '-v', ...ids], { what: 'docker rm' });
    const nets = (await run(['docker', 'network', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
    if (nets.length) await run(['docker', 'network', 'rm', ...nets], { what: 'docker network rm' });
    if (options.volumes) {
      const vols = await projectVolumes(project);
      if (vols.length) await run(['docker', 'volume', 'rm', ...vols], { what: 'docker volume rm' });
    }
  });
}

export async function down(stack: Stack, options: { volumes?: boolean } = {}): Promise<void> {
  const args = ['--remove-orphans', ...(options.volumes ? ['--volumes'] : [])];
  await stack.progress.step(options.volumes ? 'remove containers, network and volumes' : 'remove containers and network (volumes kept)', async () => {
    await composeCall(stack, `down ${args.join(' ')}`, () => compose.downAll(composeOptions(stack, { commandOptions: args })));
  });
}

export async function statusTable(stack: Stack): Promise<string> {
  const containers = await projectContainers(stack.project);
  const rows = stack.config.services.map((s) => {
    const mine = containers.filter((c) => c.service === s.name);
    return [s.name, serviceState(containers, s.name, s.hasHealthcheck), mine.map((c) => c.image).join(' ') || s.image || '', mine.flatMap((c) => c.ports).join(' ')];
  });
  const head = ['SERVICE', 'STATE', 'IMAGE', 'PORTS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function logs(stack: Stack, options: { tail?: number; follow?: boolean; services?: string[] } = {}): Promise<void> {
  const args = [...stack.cli.argv, ...composeArgs(stack), 'logs', '--no-color', `--tail=${options.tail ?? 100}`];
  if (options.follow) args.push('--follow');
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(args[0]!, [...args.slice(1), ...(options.services ?? [])], { stdio: 'inherit', cwd: path.dirname(stack.composeFile), env: stack.env });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || options.follow ? resolve() : reject(new StackportError(`compose logs exited with ${code}`))));
  });
}

/** Runs a command inside a service's container (`compose exec -T`). */
export async function execIn(stack: Stack, service: string, command: string[], input?: string): Promise<string> {
  const r = await run([...stack.cli.argv, ...composeArgs(stack), 'exec', '-T', service, ...command], {
    cwd: path.dirname(stack.composeFile),
    env: stack.env,
    input,
    what: `exec in ${service}: ${command.join(' ')}`,
  });
  return r.stdout;
}

export { tail };
