/**
 * load: a Compose file -> the app model. Parses with positions, interpolates variables,
 * resolves `extends` and anchors, validates, normalises. Every problem of the input comes
 * back at once as a ValidationError (exit 2, one `file:line:col: message` line each).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StackportError, ValidationError } from '../errors.js';
import type { App, SourcePos } from '../model/app.js';
import { parseDotenv } from './dotenv.js';
import { resolveExtends } from './extends.js';
import { interpolate, type Env } from './interpolate.js';
import { normalize } from './normalize.js';
import { DEFAULT_LIMITS, isPMap, isPScalar, parseFile, type ParseLimits, type PMap, type PNode, type Problem } from './source.js';

export interface LoadOptions {
  /** The Compose file. */
  file: string;
  /** Variables for interpolation, on top of `env`: a `.env`-style file. */
  envFile?: string;
  /** The environment (default: process.env). Shell variables win over the env file, as in Compose. */
  env?: Env;
  /** Compose profiles to enable (default: COMPOSE_PROFILES). `*` enables all. */
  profiles?: string[];
  /** Overrides the project name (top-level `name`, else the file's directory name). */
  projectName?: string;
  /** Paths in messages are shown relative to this directory (default: the working directory). */
  displayBase?: string;
  limits?: Partial<ParseLimits>;
}

export function loadCompose(options: LoadOptions): App {
  const displayBase = options.displayBase ?? process.cwd();
  const file = path.resolve(options.file);
  const dir = path.dirname(file);
  const display = (abs: string) => path.relative(displayBase, abs) || abs;
  const limits: ParseLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const problems: Problem[] = [];
  const env = readEnv(options, problems, display);

  if (!existsSync(file)) {
    throw new StackportError(`${display(file)}: Compose file not found`, { exitCode: 2, hint: 'pass the file with -f <compose-file>' });
  }
  const parsed = parseFile(file, display(file), limits);
  problems.push(...parsed.problems);
  const root = parsed.root;
  if (problems.length || !root) throw invalid(problems);
  if (!isPMap(root)) throw invalid([{ message: 'a Compose file must be a mapping with a `services` key', pos: root.pos }]);

  interpolateTree(root, env, problems, []);
  const services = root.entries.get('services')?.value;
  let unresolved = new Set<string>();
  if (services && isPMap(services)) {
    unresolved = resolveExtends(services, {
      problems,
      dir,
      loadFile: (abs, from) => {
        const other = parseFile(abs, display(abs), limits);
        if (other.problems.length === 1 && other.problems[0]!.message === 'file not found') {
          problems.push({ message: `extends: ${String(from.value)} not found`, pos: from.pos });
          return undefined;
        }
        problems.push(...other.problems);
        if (!other.root || !isPMap(other.root)) return undefined;
        interpolateTree(other.root, env, problems, []);
        return other.root;
      },
    });
  }
  const nameNode = root.entries.get('name')?.value;
  const projectName = projectNameOf(options.projectName ?? (nameNode && isPScalar(nameNode) && typeof nameNode.value === 'string' ? nameNode.value : undefined) ?? env.COMPOSE_PROJECT_NAME ?? path.basename(dir));
  const profiles = options.profiles ?? (env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',').map((p) => p.trim()).filter(Boolean) : []);
  const ctx = { dir, displayBase, env, projectName, problems, warnings: [], unresolved };
  const app = normalize(root, ctx, profiles);
  if (problems.length) throw invalid(problems);
  app.file = file;
  app.warnings.sort(byPosition);
  return app;
}

/** The variables interpolation sees: the environment over the env file (as in Compose). */
export function environmentFor(options: LoadOptions): Env {
  const problems: Problem[] = [];
  const displayBase = options.displayBase ?? process.cwd();
  const env = readEnv(options, problems, (abs) => path.relative(displayBase, abs) || abs);
  if (problems.length) throw invalid(problems);
  return env;
}

function readEnv(options: LoadOptions, problems: Problem[], display: (abs: string) => string): Env {
  const base = options.env ?? process.env;
  if (!options.envFile) return base;
  const abs = path.resolve(options.envFile);
  if (!existsSync(abs)) {
    throw new StackportError(`${display(abs)}: env file not found`, { exitCode: 2, hint: 'leave out --env-file to generate without it; values that come from it are read when the manifests are applied' });
  }
  const parsed = parseDotenv(readFileSync(abs, 'utf8'), display(abs));
  problems.push(...parsed.problems);
  const fromFile: Record<string, string | undefined> = {};
  for (const e of parsed.entries) {
    if (e.value === undefined) continue;
    // Values in the env file may refer to earlier ones.
    fromFile[e.name] = interpolate(e.value, { ...fromFile, ...base }).value;
  }
  return { ...fromFile, ...base };
}

/** Interpolates every string value; keys stay as written. `environment` values are left for the model (they resolve at apply time). */
function interpolateTree(n: PNode, env: Env, problems: Problem[], where: string[]): void {
  if (n.kind === 'map') {
    for (const [k, e] of n.entries) {
      if (where.length === 0 && k.startsWith('x-')) continue;
      if (where.length === 2 && where[0] === 'services' && k === 'environment') continue;
      interpolateTree(e.value, env, problems, [...where, k]);
    }
    return;
  }
  if (n.kind === 'seq') {
    n.items.forEach((i) => interpolateTree(i, env, problems, where));
    return;
  }
  if (typeof n.value !== 'string' || !n.value.includes('$')) return;
  const r = interpolate(n.value, env);
  for (const e of r.errors) problems.push({ message: `${where.join('.')}: ${e}`, pos: n.pos });
  n.template = n.value;
  n.vars = r.vars;
  n.value = r.value;
}

/** Compose's project name rules: lowercase letters, digits, dashes and underscores. */
export function projectNameOf(text: string): string {
  const name = text.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
  return name || 'default';
}

function byPosition(a: { pos?: SourcePos }, b: { pos?: SourcePos }): number {
  const pa = a.pos ?? { file: '', line: 0, col: 0 };
  const pb = b.pos ?? { file: '', line: 0, col: 0 };
  return pa.file.localeCompare(pb.file) || pa.line - pb.line || pa.col - pb.col;
}

function invalid(problems: Problem[]): ValidationError {
  const sorted = [...problems].sort(byPosition);
  // One problem per position: the first is the cause (a missing variable), what follows is its echo (an empty image).
  const unique = sorted.filter((p, i) => i === 0 || byPosition(p, sorted[i - 1]!) !== 0);
  return new ValidationError(
    unique.map((p) => new StackportError(p.message, { position: p.pos, exitCode: 2 })),
    { hint: unique.length === 1 ? 'fix the Compose file and run again' : `${unique.length} problems; fix the Compose file and run again` },
  );
}
