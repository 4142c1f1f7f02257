/** The Compose stack's commands (make up/down/clean/smoke/status/logs), argument parsing included. */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { ConsoleProgress, formatMs } from '../ui/progress.js';
import { assertSmokePassed, formatResults, runSmoke, type SmokeTarget } from '../smoke/smoke.js';
import { buildChanged, down, logs, prepareStack, removeProject, statusTable, up, type Stack } from './stack.js';
import { engineVersion, ensureEngine } from '../engine/engine.js';

export interface CommandContext {
  root: string;
  out?: NodeJS.WritableStream;
}

interface Flags {
  file?: string;
  smoke: boolean;
  follow: boolean;
  tail?: number;
  services: string[];
}

export function parseFlags(argv: string[], allowed: string[]): Flags {
  const flags: Flags = { smoke: true, follow: false, services: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const need = (name: string) => {
      if (!allowed.includes(name)) throw new StackportError(`unknown option ${a}`, { hint: `options: ${allowed.join(' ') || 'none'}`, exitCode: 2 });
    };
    if (a === '-f' || a === '--file') {
      need('-f');
      const v = argv[++i];
      if (!v) throw new StackportError(`${a} needs a file`, { exitCode: 2 });
      flags.file = v;
    } else if (a === '--no-smoke') {
      need('--no-smoke');
      flags.smoke = false;
    } else if (a === '--follow') {
      need('--follow');
      flags.follow = true;
    } else if (a.startsWith('--tail=')) {
      need('--tail');
      flags.tail = Number(a.slice(7));
    } else if (a === '--verbose') {
      /* read by the error reporter */
    } else if (a.startsWith('-')) {
      throw new StackportError(`unknown option ${a}`, { hint: `options: ${allowed.join(' ') || 'none'}`, exitCode: 2 });
    } else {
      flags.services.push(a);
    }
  }
  return flags;
}

export function smokeTarget(stack: Stack): SmokeTarget {
  const web = stack.config.services.find((s) => s.name === 'web')?.ports[0];
  if (!web) throw new StackportError('service web publishes no port; the smoke suite needs it', { hint: 'publish web on 127.0.0.1' });
  const host = web.hostIp === '0.0.0.0' ? '127.0.0.1' : web.hostIp;
  return { name: 'compose', baseUrl: `http://${host}:${web.published}`, markerFile: markerFile(stack.stateDir, stack.project) };
}

/** The smoke suite's record of messages it left, per project (volumes are per project). */
export const markerFile = (stateDir: string, project: string) => path.join(stateDir, `smoke-${project}.json`);

async function smoke(stack: Stack, progress: ConsoleProgress, out: NodeJS.WritableStream): Promise<void> {
  const target = smokeTarget(stack);
  const results = await progress.step(`smoke test ${target.baseUrl}`, () => runSmoke(target));
  out.write(`${formatResults(target, results)}\n`);
  assertSmokePassed(target, results);
}

export async function upCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const out = ctx.out ?? process.stdout;
  const flags = parseFlags(argv, ['-f', '--no-smoke']);
  const progress = new ConsoleProgress();
  const started = Date.now();
  const stack = await prepareStack({ root: ctx.root, progress, composeFile: flags.file });
  const result = await up(stack);
  if (result.built.length === 0) progress.info('images: up to date, nothing rebuilt');
  if (flags.smoke) await smoke(stack, progress, out);
  out.write(`${await statusTable(stack)}\n`);
  out.write(`stack is up in ${formatMs(Date.now() - started)}: ${smokeTarget(stack).baseUrl}\n`);
  if (process.env.STACKPORT_TIMINGS !== '0') process.stderr.write(`${progress.breakdown('make up')}\n`);
}

async function existingStack(ctx: CommandContext, file?: string): Promise<Stack | undefined> {
  const progress = new ConsoleProgress(process.stderr, true);
  const envFile = path.join(path.dirname(path.resolve(ctx.root, file ?? 'compose/compose.yaml')), '.env');
  if (!existsSync(envFile)) return undefined;
  if (!(await engineVersion())) return undefined;
  return prepareStack({ root: ctx.root, progress, composeFile: file });
}

export async function downCommand(argv: string[], ctx: CommandContext, options: { volumes: boolean }): Promise<void> {
  const flags = parseFlags(argv, ['-f']);
  const stack = await existingStack(ctx, flags.file);
  const out = ctx.out ?? process.stdout;
  const project = process.env.STACKPORT_PROJECT ?? 'stackport';
  if (!stack && options.volumes) {
    // No env file here (a fresh clone next to an old run's data): clean by Compose's labels.
    const progress = new ConsoleProgress();
    await ensureEngine({ progress, logDir: path.join(ctx.root, '.stackport', 'logs') });
    await removeProject(project, progress, { volumes: true });
  } else if (!stack) {
    out.write('nothing to stop: no stack was started here (or the engine is not running)\n');
  } else {
    const progress = new ConsoleProgress();
    await down({ ...stack, progress }, { volumes: options.volumes });
  }
  if (options.volumes) {
    rmSync(markerFile(stack?.stateDir ?? path.join(ctx.root, '.stackport'), stack?.project ?? process.env.STACKPORT_PROJECT ?? 'stackport'), { force: true });
    rmSync(path.join(ctx.root, '.stackport', 'build-state.json'), { force: true });
    out.write('removed containers, network and data volumes\n');
  } else {
    out.write('stopped; data volumes kept (make clean removes them)\n');
  }
}

export async function smokeCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f']);
  const stack = await existingStack(ctx, flags.file);
  if (!stack) throw new StackportError('the stack is not running', { hint: 'run `make up` first' });
  await smoke(stack, new ConsoleProgress(), ctx.out ?? process.stdout);
}

export async function statusCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f']);
  const out = ctx.out ?? process.stdout;
  const engine = await engineVersion();
  if (!engine) {
    out.write('engine: not running (make up starts it)\n');
    return;
  }
  const stack = await existingStack(ctx, flags.file);
  if (!stack) {
    out.write(`engine: Docker ${engine.serverVersion}; stack: never started here (make up)\n`);
    return;
  }
  out.write(`engine: Docker ${engine.serverVersion}; compose: ${stack.cli.generation} ${stack.cli.version}; images: ${stack.imageSource}\n`);
  out.write(`${await statusTable(stack)}\n`);
}

export async function logsCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f', '--follow', '--tail']);
  const stack = await existingStack(ctx, flags.file);
  if (!stack) throw new StackportError('the stack is not running', { hint: 'run `make up` first' });
  await logs(stack, { follow: flags.follow, tail: flags.tail, services: flags.services });
}

/** make build: build the images Compose builds (only what changed), e.g. WEB_VERSION=2 make build. */
export async function buildCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f']);
  const progress = new ConsoleProgress();
  const stack = await prepareStack({ root: ctx.root, progress, composeFile: flags.file });
  const built = await buildChanged(stack);
  const images = stack.config.services.filter((s) => s.build).map((s) => s.image ?? `${stack.project}-${s.name}`);
  (ctx.out ?? process.stdout).write(`${built.length ? `built ${built.join(', ')}` : 'up to date'}: ${images.join(', ')}\n`);
}
