/** The Compose stack's commands (make up/down/clean/smoke/status/logs), argument parsing included. */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { StackportError } from '../errors.js';
import { ConsoleProgress, formatMs } from '../ui/progress.js';
import { commandArgs } from '../ui/args.js';
import { assertSmokePassed, formatResults, type CheckResult, type SmokeTarget } from '../smoke/smoke.js';
import { runSuite } from '../smoke/run.js';
import { ComposeTarget } from '../smoke/compose-target.js';
import type { Progress } from '../ui/progress.js';
import { buildChanged, down, logs, prepareStack, projectVolumes, removeProject, statusTable, up, type Stack } from './stack.js';
import { projectContainers } from './containers.js';
import { chooseProject } from './project.js';
import { clusterProjects, formatClusterProjects } from './cluster-projects.js';
import { engineVersion, ensureEngine } from '../engine/engine.js';

export interface CommandContext {
  root: string;
  out?: NodeJS.WritableStream;
}

interface Flags {
  /** -f, as many as given (merged in order, as Compose does). */
  files: string[];
  smoke: boolean;
  follow: boolean;
  tail?: number;
  services: string[];
  help: boolean;
  /** the command's usage (--help) */
  usage: string;
}

/** What each flag of the stack commands is, for node:util parseArgs (src/ui/args.ts). */
const FLAGS = {
  '-f': { file: { type: 'string', short: 'f', multiple: true } },
  '--no-smoke': { 'no-smoke': { type: 'boolean' } },
  '--follow': { follow: { type: 'boolean' } },
  '--tail': { tail: { type: 'string' } },
} as const;
type Flag = keyof typeof FLAGS;

const FLAG_HELP: Record<Flag, string> = {
  '-f': '-f, --file <file>   Compose file, several merged in order (default COMPOSE_FILE, else compose/compose.yaml)',
  '--no-smoke': '--no-smoke          skip the smoke suite after the start',
  '--follow': '--follow            keep streaming',
  '--tail': '--tail <n>          only the last n lines of each service',
};

/** `usage: scripts/<script>.mjs [flags]` and a line per flag, for --help and the hint of a bad flag. */
function usageOf(script: string, allowed: Flag[]): string {
  const services = allowed.includes('--follow') ? ' [service...]' : '';
  return [`usage: npx zx scripts/${script}.mjs ${allowed.map((f) => `[${f === '-f' ? '-f <file>' : f === '--tail' ? '--tail <n>' : f}]`).join(' ')}${services}`.replace(/ +$/, ''), ...allowed.map((f) => `  ${FLAG_HELP[f]}`)].join('\n');
}

/** The flags of a stack command (one parser for every command: src/ui/args.ts); the services only for logs. */
export function parseFlags(argv: string[], allowed: Flag[], script = 'up'): Flags {
  const options = Object.assign({}, ...allowed.map((f) => FLAGS[f])) as Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  const usage = usageOf(script, allowed);
  const { values, positionals } = commandArgs(argv, options, { positionals: allowed.includes('--follow'), hint: usage.split('\n')[0] });
  const v = values as Record<string, string | string[] | boolean | undefined>;
  let tail: number | undefined;
  if (v.tail !== undefined) {
    tail = Number(v.tail);
    if (!/^\d+$/.test(String(v.tail))) throw new StackportError(`--tail must be a number of lines, not "${v.tail}"`, { exitCode: 2, hint: usage.split('\n')[0] });
  }
  return { files: (v.file as string[] | undefined) ?? [], smoke: !v['no-smoke'], follow: Boolean(v.follow), tail, services: positionals, help: Boolean(v.help), usage };
}

function printUsage(ctx: CommandContext, flags: Flags): void {
  (ctx.out ?? process.stdout).write(`${flags.usage}\n`);
}

/** The demo suite's base URL (tests and benches of the demo): the entry service's first published port. */
export function smokeTarget(stack: Stack): SmokeTarget {
  const entry = entryPort(stack);
  if (!entry) throw new StackportError('no service publishes a port', { hint: 'publish the entry service on 127.0.0.1' });
  return { name: 'compose', baseUrl: `http://${entry.host}:${entry.port}`, markerFile: markerFile(stack.stateDir, stack.project) };
}

/** Where a user reaches the stack, for the output: a published container port 80 or 8080, else the first published TCP port. */
export function entryPort(stack: Stack): { service: string; host: string; port: number } | undefined {
  const all = stack.config.services.flatMap((s) => s.ports).filter((p) => p.protocol === 'tcp');
  const p = all.find((x) => x.target === 80 || x.target === 8080) ?? all[0];
  if (!p) return undefined;
  return { service: p.service, host: p.hostIp === '0.0.0.0' ? '127.0.0.1' : p.hostIp, port: p.published };
}

/** The smoke record of the demo's messages, per project (volumes are per project). */
export const markerFile = (stateDir: string, project: string) => path.join(stateDir, `smoke-${project}.json`);

/** The project's own smoke checks (or the default suite) on the Compose stack. */
export async function composeSmoke(stack: Stack, progress: Progress, out: NodeJS.WritableStream): Promise<CheckResult[]> {
  const target = new ComposeTarget(stack, markerFile(stack.stateDir, stack.project));
  const what = stack.smoke.length ? `${stack.smoke.length} declared check(s)` : 'default checks (no x-stackport.smoke declared)';
  const results = await progress.step(`smoke test ${stack.project} on Compose: ${what}`, () => runSuite(target, stack.smoke, { published: stack.config.services.flatMap((s) => s.ports) }));
  out.write(`${formatResults({ name: 'compose' }, results)}\n`);
  assertSmokePassed({ name: 'compose' }, results);
  return results;
}

async function smoke(stack: Stack, progress: Progress, out: NodeJS.WritableStream): Promise<void> {
  await composeSmoke(stack, progress, out);
}

export async function upCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const out = ctx.out ?? process.stdout;
  const flags = parseFlags(argv, ['-f', '--no-smoke'], 'up');
  if (flags.help) return printUsage(ctx, flags);
  const progress = new ConsoleProgress();
  const started = Date.now();
  const stack = await prepareStack({ root: ctx.root, progress, composeFile: flags.files });
  const result = await up(stack);
  if (result.built.length === 0) progress.info('images: up to date, nothing rebuilt');
  if (flags.smoke) await smoke(stack, progress, out);
  out.write(`${await statusTable(stack)}\n`);
  const entry = entryPort(stack);
  out.write(`stack ${stack.project} is up in ${formatMs(Date.now() - started)}${entry ? `: http://${entry.host}:${entry.port}` : ''}\n`);
  if (process.env.STACKPORT_TIMINGS !== '0') process.stderr.write(`${progress.breakdown('make up')}\n`);
}

async function existingStack(ctx: CommandContext, files: string[], readOnly = false): Promise<Stack | undefined> {
  const progress = new ConsoleProgress(process.stderr, true);
  const choice = chooseProject({ root: ctx.root, files });
  // the demo's .env exists once `make up` ran; another project is known by its containers or volumes
  if (choice.demo && !existsSync(path.join(choice.projectDir, '.env'))) return undefined;
  if (!(await engineVersion())) return undefined;
  if (!choice.demo && (await projectContainers(choice.name)).length === 0 && (await projectVolumes(choice.name)).length === 0) return undefined;
  return prepareStack({ root: ctx.root, progress, composeFile: files, readOnly });
}

export async function downCommand(argv: string[], ctx: CommandContext, options: { volumes: boolean }): Promise<void> {
  const flags = parseFlags(argv, ['-f'], options.volumes ? 'clean' : 'down');
  if (flags.help) return printUsage(ctx, flags);
  const stack = await existingStack(ctx, flags.files);
  const out = ctx.out ?? process.stdout;
  const project = chooseProject({ root: ctx.root, files: flags.files }).name;
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
    rmSync(markerFile(stack?.stateDir ?? path.join(ctx.root, '.stackport'), stack?.project ?? project), { force: true });
    rmSync(path.join(ctx.root, '.stackport', 'build-state.json'), { force: true });
    out.write('removed containers, network and data volumes\n');
  } else {
    out.write('stopped; data volumes kept (make clean removes them)\n');
  }
}

export async function smokeCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f'], 'smoke');
  if (flags.help) return printUsage(ctx, flags);
  const stack = await existingStack(ctx, flags.files);
  if (!stack) throw new StackportError('the stack is not running', { hint: 'run `make up` first' });
  await smoke(stack, new ConsoleProgress(), ctx.out ?? process.stdout);
}

export async function statusCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f'], 'status');
  if (flags.help) return printUsage(ctx, flags);
  const out = ctx.out ?? process.stdout;
  const engine = await engineVersion();
  if (!engine) {
    out.write('engine: not running (make up starts it)\n');
    return;
  }
  // status changes nothing: no Compose or image build, no .env rewrite
  const stack = await existingStack(ctx, flags.files, true);
  if (!stack) {
    out.write(`engine: Docker ${engine.serverVersion}; stack: never started here (make up)\n`);
    return;
  }
  out.write(`engine: Docker ${engine.serverVersion}; compose: ${stack.cli.generation} ${stack.cli.version}; images: ${stack.imageSource}; project: ${stack.project}\n`);
  out.write(`${await statusTable(stack)}\n`);
  out.write(`${formatClusterProjects(await clusterProjects(stack.stateDir))}\n`);
}

export async function logsCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f', '--follow', '--tail'], 'logs');
  if (flags.help) return printUsage(ctx, flags);
  const stack = await existingStack(ctx, flags.files);
  if (!stack) throw new StackportError('the stack is not running', { hint: 'run `make up` first' });
  await logs(stack, { follow: flags.follow, tail: flags.tail, services: flags.services });
}

/** make build: build the images Compose builds (only what changed), e.g. WEB_VERSION=2 make build. */
export async function buildCommand(argv: string[], ctx: CommandContext): Promise<void> {
  const flags = parseFlags(argv, ['-f'], 'build');
  if (flags.help) return printUsage(ctx, flags);
  const progress = new ConsoleProgress();
  const stack = await prepareStack({ root: ctx.root, progress, composeFile: flags.files });
  const built = await buildChanged(stack);
  const images = stack.config.services.filter((s) => s.build).map((s) => s.image ?? `${stack.project}-${s.name}`);
  (ctx.out ?? process.stdout).write(`${built.length ? `built ${built.join(', ')}` : 'up to date'}: ${images.join(', ')}\n`);
}
