/**
 * One comparable shape for a loaded Compose project, from either side: Compose v2's
 * `config --format json` output, or stackport's app model. Only what the parity test
 * compares: services (the active ones), images, resolved environment, ports, volumes,
 * depends_on and healthchecks. Lists are sorted so order never counts as a difference.
 * Not a test file (no `.test.ts`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { interpolate, type Env } from '../../src/compose/interpolate.js';
import { loadCompose, planProject, type LoadOptions } from '../../src/compose/load.js';
import { parseDuration } from '../../src/compose/units.js';
import { StackportError } from '../../src/errors.js';
import type { App } from '../../src/model/app.js';

export interface ServiceShape {
  image: string;
  environment: Record<string, string | null>;
  ports: string[];
  volumes: string[];
  depends_on: Record<string, string>;
  healthcheck: string;
}
export type ProjectShape = Record<string, ServiceShape>;

/** What a run of either loader gave: accepted with a shape, or rejected with its message. */
export type Outcome = { ok: true; shape: ProjectShape; name: string } | { ok: false; message: string };

/** The arguments of a corpus project (args.json): the flags `docker compose` takes, and the environment. */
export interface ProjectArgs {
  files?: string[];
  envFiles?: string[];
  profiles?: string[];
  projectDirectory?: string;
  projectName?: string;
  env?: Record<string, string>;
}

export function composeBinary(): string {
  const candidates = [process.env.STACKPORT_COMPOSE, path.join(os.homedir(), '.cache/stackport/compose-v2.35.0/docker-compose')].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`no Compose v2 binary at ${candidates.join(' or ')}: run \`make up\` (it builds Compose v2.35.0) or set STACKPORT_COMPOSE`);
  return found;
}

/** The environment both loaders see: a clean one (nothing of the host's leaks in), plus the project's own variables. */
export function projectEnv(args: ProjectArgs): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), ...(args.env ?? {}) };
}

/** The command-line flags args.json stands for (`-f`, `--env-file`, `--profile`, `--project-directory`, `-p`): docker compose and stackport's generate take the same. */
export function projectFlags(args: ProjectArgs): string[] {
  const argv: string[] = [];
  for (const f of args.files ?? []) argv.push('-f', f);
  for (const e of args.envFiles ?? []) argv.push('--env-file', e);
  for (const p of args.profiles ?? []) argv.push('--profile', p);
  if (args.projectDirectory) argv.push('--project-directory', args.projectDirectory);
  if (args.projectName) argv.push('-p', args.projectName);
  return argv;
}

export function composeArgv(args: ProjectArgs): string[] {
  return [...projectFlags(args), 'config', '--format', 'json'];
}

/** Runs `docker compose config --format json` in `dir`; killed (SIGKILL after SIGTERM) when it takes longer than `seconds`. */
export function runCompose(binary: string, dir: string, args: ProjectArgs, seconds = 20): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn('timeout', ['-k', '2', String(seconds), binary, ...composeArgv(args)], { cwd: dir, env: projectEnv(args) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ ok: false, message: `could not run Compose: ${e.message}` }));
    child.on('close', (code) => {
      if (code !== 0) return resolve({ ok: false, message: code === 124 || code === 137 ? `timed out after ${seconds}s` : err.trim() || `exit ${code}` });
      try {
        const json = JSON.parse(out) as ComposeJson;
        resolve({ ok: true, shape: fromCompose(json), name: json.name });
      } catch (e) {
        resolve({ ok: false, message: `unreadable output: ${String(e)}` });
      }
    });
  });
}

export function runStackport(dir: string, args: ProjectArgs): Outcome {
  const env = projectEnv(args);
  const options: LoadOptions = {
    files: args.files,
    envFiles: args.envFiles,
    profiles: args.profiles,
    projectDirectory: args.projectDirectory,
    projectName: args.projectName,
    env,
    cwd: dir,
    displayBase: dir,
  };
  try {
    const app = loadCompose(options);
    return { ok: true, shape: fromApp(app, planProject(options).env), name: app.name };
  } catch (e) {
    if (e instanceof StackportError && e.exitCode === 2) return { ok: false, message: e.message };
    throw e;
  }
}

// ---------- Compose's side ----------

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | null>;
  ports?: { target: number; published?: string; host_ip?: string; protocol?: string }[];
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  tmpfs?: string[];
  shm_size?: string | number;
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test?: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; start_interval?: string; disable?: boolean };
}
interface ComposeJson {
  name: string;
  services?: Record<string, ComposeService>;
}

const seconds = (d: string | undefined, fallback?: number): number | undefined => (d === undefined ? fallback : parseDuration(d));

function healthText(h: { test: string[]; interval?: number; timeout?: number; retries?: number; start_period?: number; start_interval?: number } | 'disabled' | 'none'): string {
  return typeof h === 'string' ? h : JSON.stringify(h);
}

export function fromCompose(json: ComposeJson): ProjectShape {
  const out: ProjectShape = {};
  for (const [name, s] of Object.entries(json.services ?? {})) {
    const volumes = (s.volumes ?? []).map((v) => mountText(v.type, v.source, v.target, v.read_only ?? false));
    for (const t of s.tmpfs ?? []) volumes.push(mountText('tmpfs', undefined, t.split(':')[0]!, false));
    if (s.shm_size !== undefined) volumes.push(mountText('tmpfs', undefined, '/dev/shm', false));
    const h = s.healthcheck;
    let health = 'none';
    if (h && (h.disable || h.test?.[0] === 'NONE')) health = 'disabled';
    else if (h?.test) {
      health = healthText({
        test: (h.test[0] === 'CMD-SHELL' ? ['CMD-SHELL', h.test.slice(1).join(' ')] : h.test).map((w) => w.replace(/\$\$/g, '$')),
        interval: seconds(h.interval, 30),
        timeout: seconds(h.timeout, 30),
        retries: h.retries ?? 3,
        start_period: seconds(h.start_period),
        start_interval: seconds(h.start_interval),
      });
    }
    out[name] = {
      image: s.image?.replace(/\$\$/g, '$') ?? `${json.name}-${name}`,
      // `config` writes `$` as `$$` so its output can be read again: undo that.
      environment: sortKeys(Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? null : v.replace(/\$\$/g, '$')]))),
      ports: (s.ports ?? []).map((p) => portText(p.host_ip, p.published, p.target, p.protocol ?? 'tcp')).sort(),
      volumes: volumes.sort(),
      // An optional dependency on a service that is not part of the project (left out by profiles) waits for nothing:
      // Compose lists it, stackport's model leaves it out.
      depends_on: sortKeys(Object.fromEntries(Object.entries(s.depends_on ?? {}).filter(([d, c]) => c.required !== false || json.services?.[d]).map(([d, c]) => [d, `${c.condition}${c.required === false ? ' (optional)' : ''}`]))),
      healthcheck: health,
    };
  }
  return sortKeys(out);
}

// ---------- stackport's side ----------

export function fromApp(app: App, env: Env): ProjectShape {
  const out: ProjectShape = {};
  for (const s of app.services) {
    const environment: Record<string, string | null> = {};
    for (const v of s.environment) {
      if (v.template === undefined) environment[v.name] = v.value;
      else if (v.passThrough && env[v.name] === undefined) environment[v.name] = null;
      else environment[v.name] = interpolate(v.template, env).value;
    }
    const h = s.healthcheck;
    let health = 'none';
    if (s.healthcheckDisabled) health = 'disabled';
    else if (h) {
      health = healthText({
        test: h.kind === 'exec' ? ['CMD', ...h.command] : ['CMD-SHELL', h.command[0] ?? ''],
        interval: h.intervalSeconds,
        timeout: h.timeoutSeconds,
        retries: h.retries,
        start_period: h.startPeriodSeconds,
        start_interval: h.startIntervalSeconds,
      });
    }
    out[s.name] = {
      image: s.image,
      environment: sortKeys(environment),
      ports: s.ports.map((p) => portText(p.hostIp, p.published === undefined ? undefined : String(p.published), p.target, p.protocol.toLowerCase())).sort(),
      volumes: s.mounts.map((m) => mountText(m.type, m.source, m.target, m.readOnly)).sort(),
      depends_on: sortKeys(Object.fromEntries(s.dependsOn.map((d) => [d.service, `${d.condition}${d.required === false ? ' (optional)' : ''}`]))),
      healthcheck: health,
    };
  }
  return sortKeys(out);
}

function portText(hostIp: string | undefined, published: string | undefined, target: number, protocol: string): string {
  return `${hostIp ?? ''}:${published ?? ''}:${target}/${protocol}`;
}

/** Host paths are compared cleaned: Compose keeps an absolute one as written (`/etc/pihole/`, `/root//x`), stackport cleans it. */
function mountText(type: string, source: string | undefined, target: string, readOnly: boolean): string {
  const src = source && type === 'bind' ? path.posix.normalize(source).replace(/(.)\/$/, '$1') : (source ?? '');
  return `${type}:${src}:${target}${readOnly ? ':ro' : ''}`;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Runs `tasks` with at most `limit` at a time, results in order. */
export async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
