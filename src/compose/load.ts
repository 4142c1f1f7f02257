/**
 * load: a Compose project -> the app model, the way Compose v2 loads it (compose-go's
 * `cli.ProjectOptions` and loader). The only module of src/compose that reads files: it
 * finds the project (files, project directory, `.env`, `COMPOSE_*` variables), parses each
 * file with positions, interpolates, resolves `include`, `extends` and anchors, merges the
 * files in order, then hands one positioned tree to the pure `normalize`. Every problem of
 * the input comes back at once as a ValidationError (exit 2, one `file:line:col: message` each).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { StackportError, ValidationError } from '../errors.js';
import type { App, SourcePos } from '../model/app.js';
import { parseDotenv } from './dotenv.js';
import { resolveExtends } from './extends.js';
import { includeEntries, rebaseResources } from './include.js';
import { interpolate, type Env } from './interpolate.js';
import { enforceUnicity, mergeFiles } from './merge.js';
import { normalize, type HostFiles } from './normalize.js';
import { clone, DEFAULT_LIMITS, isPMap, isPScalar, parseFile, type ParseLimits, type PMap, type PNode, type Problem } from './source.js';

export interface LoadOptions {
  /** The Compose file (kept for existing callers; same as `files: [file]`). */
  file?: string;
  /** Compose files, merged in order (`-f a -f b`). None: `COMPOSE_FILE`, else compose.yaml (and its override) found from the project directory up. */
  files?: string[];
  /** `--project-directory`: relative paths, `.env` and the default project name are taken from here (default: the first file's directory). */
  projectDirectory?: string;
  /** One `--env-file` (kept for existing callers). */
  envFile?: string;
  /** `--env-file` (several): replace `.env` of the project directory; later files win. */
  envFiles?: string[];
  /** The environment (default: process.env). Shell variables win over env files, as in Compose. */
  env?: Env;
  /** Compose profiles to enable (default: COMPOSE_PROFILES). `*` enables all. */
  profiles?: string[];
  /** Overrides the project name (else COMPOSE_PROJECT_NAME, top-level `name`, the project directory's name). */
  projectName?: string;
  /** Paths in messages are shown relative to this directory (default: the working directory). */
  displayBase?: string;
  /** Relative `files`, `envFiles` and `projectDirectory` are resolved against this (default: the working directory). */
  cwd?: string;
  limits?: Partial<ParseLimits>;
  /**
   * Compose files read and parsed already (readComposeFiles, with the same displayBase): the
   * loader takes these trees (copies: loading changes them) and reads those files no more.
   */
  sources?: ComposeSources;
  /**
   * When `${X:?msg}` inside an `environment` value is checked. Default: now, as Compose does.
   * `empty-env-file`: at apply time (`--stage`) when env files are given and define no variable
   * (`--env-file /dev/null`: the committed manifests are generated without the values, which
   * `make up` writes to compose/.env later), else now.
   * `always`: at apply time (the caller resolves the values and reports unset ones itself).
   */
  requiredAtApply?: 'always' | 'empty-env-file';
}

/** What Compose works out before it reads a Compose file: which files, which directory, which variables. */
export interface ProjectPlan {
  files: string[];
  workingDir: string;
  env: Env;
  profiles: string[];
  /** Set when given (option or COMPOSE_PROJECT_NAME): it must be a valid name as it is. */
  projectName?: string;
  /** The env files read (--env-file, else the project directory's .env when there is one). */
  envFiles: string[];
  /** Names of the variables those files define. */
  envFileVariables: string[];
  /** True when the env files were given (--env-file), not the project directory's .env. */
  envFilesGiven: boolean;
}

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

const notFound = (what: string, hint: string) => new StackportError(what, { exitCode: 2, hint });

export function planProject(options: LoadOptions): ProjectPlan {
  const cwd = options.cwd ?? process.cwd();
  const displayBase = options.displayBase ?? cwd;
  const display = (abs: string) => path.relative(displayBase, abs) || abs;
  const osEnv = options.env ?? process.env;
  const explicit = (options.files ?? (options.file ? [options.file] : [])).map((f) => path.resolve(cwd, f));
  const projectDir = options.projectDirectory === undefined ? undefined : path.resolve(cwd, options.projectDirectory);
  if (projectDir && !isDir(projectDir)) throw notFound(`${display(projectDir)}: project directory not found`, 'pass an existing directory with --project-directory');
  const envFiles = (options.envFiles ?? (options.envFile ? [options.envFile] : [])).map((f) => path.resolve(cwd, f));
  for (const f of envFiles) {
    if (!existsSync(f)) throw notFound(`${display(f)}: env file not found`, 'pass an existing file with --env-file, or leave it out to use the project directory\'s .env');
  }
  let read: string[] = [];
  let defined: string[] = [];
  const envIn = (dir: string): Env => {
    const problems: Problem[] = [];
    read = envFiles.length ? envFiles : [path.join(dir, '.env')].filter(isFile);
    const env = withDotenv(osEnv, read, display, problems);
    defined = Object.keys(withDotenv({}, read, display, []));
    if (problems.length) throw invalid(problems);
    return env;
  };
  let workingDir = projectDir ?? (explicit[0] ? path.dirname(explicit[0]) : cwd);
  let env = envIn(workingDir);
  let files = explicit;
  if (!files.length && env.COMPOSE_FILE) {
    const sep = env.COMPOSE_PATH_SEPARATOR || path.delimiter;
    files = env.COMPOSE_FILE.split(sep).filter(Boolean).map((f) => path.resolve(projectDir ?? cwd, f));
  }
  if (!files.length) files = defaultFiles(projectDir ?? cwd);
  if (!files.length) {
    throw notFound(`no Compose file (${DEFAULT_FILES.join(', ')}) in ${display(projectDir ?? cwd)} or above`, 'pass the file with -f <compose-file>');
  }
  for (const f of files) if (!existsSync(f)) throw notFound(`${display(f)}: Compose file not found`, 'pass the file with -f <compose-file>');
  if (!projectDir && path.dirname(files[0]!) !== workingDir) {
    workingDir = path.dirname(files[0]!);
    env = envIn(workingDir);
  }
  const profiles = options.profiles ?? (env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',').map((p) => p.trim()).filter(Boolean) : []);
  const projectName = options.projectName ?? (env.COMPOSE_PROJECT_NAME || undefined);
  return { files, workingDir, env, profiles, projectName, envFiles: read, envFileVariables: defined, envFilesGiven: envFiles.length > 0 };
}

/** compose.yaml (or its older names) and the first override beside it, looked for from `dir` up to the root. */
function defaultFiles(dir: string): string[] {
  for (let d = dir; ; d = path.dirname(d)) {
    const main = DEFAULT_FILES.map((f) => path.join(d, f)).find(isFile);
    if (main) {
      const override = OVERRIDE_FILES.map((f) => path.join(d, f)).find(isFile);
      return override ? [main, override] : [main];
    }
    if (path.dirname(d) === d) return [];
  }
}

/** Compose files as read and parsed once (absolute path -> positioned tree, never changed). */
export type ComposeSources = ReadonlyMap<string, PMap>;

/**
 * Reads and parses Compose files, the loader's first stage, before anything else is known (no
 * variables yet): every YAML problem of every file comes back at once, as loadProject reports it
 * (a ValidationError, one `file:line:col: message` each, exit 2). Pass the result to loadProject
 * as `sources` and it reads the files no more.
 */
export function readComposeFiles(files: string[], options: Pick<LoadOptions, 'displayBase' | 'cwd' | 'limits'> = {}): ComposeSources {
  const cwd = options.cwd ?? process.cwd();
  const displayBase = options.displayBase ?? cwd;
  const display = (abs: string) => path.relative(displayBase, abs) || abs;
  const limits: ParseLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const problems: Problem[] = [];
  const out = new Map<string, PMap>();
  for (const file of files.map((f) => path.resolve(cwd, f))) {
    if (out.has(file)) continue;
    const root = parseRoot(file, display(file), limits, problems);
    if (root) out.set(file, root);
  }
  if (problems.length) throw invalid(problems);
  return out;
}

/** One file's tree, or its problems: YAML, and a document that is not a mapping. */
function parseRoot(abs: string, display: string, limits: ParseLimits, problems: Problem[]): PMap | undefined {
  const parsed = parseFile(abs, display, limits);
  problems.push(...parsed.problems);
  const root = parsed.root;
  if (parsed.problems.length || !root) return undefined;
  if (!isPMap(root)) {
    problems.push({ message: 'a Compose file must be a mapping with a `services` key', pos: root.pos });
    return undefined;
  }
  return root;
}

export function loadCompose(options: LoadOptions): App {
  return loadProject(options).app;
}

/**
 * The model and what Compose worked out to load it (files, directory, variables): a command loads
 * once and takes both from here (the variables again for the secret files, without re-reading .env).
 */
export function loadProject(options: LoadOptions): { app: App; plan: ProjectPlan } {
  const displayBase = options.displayBase ?? options.cwd ?? process.cwd();
  const display = (abs: string) => path.relative(displayBase, abs) || abs;
  const limits: ParseLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const plan = planProject(options);
  const problems: Problem[] = [];
  const deferRequired = options.requiredAtApply === 'always' || (options.requiredAtApply === 'empty-env-file' && plan.envFilesGiven && plan.envFileVariables.length === 0);
  const reader = fileReader(display, limits, problems, deferRequired, options.sources);
  const { env } = plan;

  let merged: PMap | undefined;
  let unresolved = new Set<string>();
  for (const file of plan.files) {
    const loaded = reader.project(file, plan.workingDir, env, []);
    if (!loaded) continue;
    unresolved = new Set([...unresolved, ...loaded.unresolved]);
    merged = merged ? mergeFiles(merged, loaded.root) : loaded.root;
  }
  if (problems.length || !merged) throw invalid(problems);
  enforceUnicity(merged);
  const nameNode = merged.entries.get('name')?.value;
  const fileName = nameNode && isPScalar(nameNode) && typeof nameNode.value === 'string' && nameNode.value !== '' ? nameNode.value : undefined;
  // A name given by option or COMPOSE_PROJECT_NAME must be valid as it is; `name:` and the directory's name are made valid.
  const given = plan.projectName;
  if (given !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(given)) {
    throw new StackportError(`invalid project name "${given}": it must contain only lowercase letters, digits, dashes and underscores, and start with a letter or digit`, {
      exitCode: 2,
      hint: 'pass a valid name with --project-name (or COMPOSE_PROJECT_NAME)',
    });
  }
  const projectName = given ?? projectNameOf(fileName ?? path.basename(plan.workingDir));
  const ctx = { dir: plan.workingDir, displayBase, env, projectName, problems, warnings: [], unresolved, files: hostFiles(display), deferRequired };
  const app = normalize(merged, ctx, plan.profiles);
  if (problems.length) throw invalid(problems);
  app.file = plan.files[0]!;
  app.files = plan.files;
  app.warnings.sort(byPosition);
  return { app, plan };
}

interface LoadedFile {
  root: PMap;
  unresolved: Set<string>;
}

/** Reads files for one load: parse, interpolate, include, extends; every problem goes to `problems`. */
function fileReader(display: (abs: string) => string, limits: ParseLimits, problems: Problem[], deferRequired: boolean, sources?: ComposeSources) {
  const parse = (abs: string, env: Env): PMap | undefined => {
    const read = sources?.get(abs);
    const root = read ? (clone(read) as PMap) : parseRoot(abs, display(abs), limits, problems);
    if (!root) return undefined;
    interpolateTree(root, env, problems, [], deferRequired);
    return root;
  };
  const project = (file: string, workingDir: string, env: Env, chain: string[]): LoadedFile | undefined => {
    const root = parse(file, env);
    if (!root) return undefined;
    let unresolved = new Set<string>();
    const services = root.entries.get('services')?.value;
    if (services && isPMap(services)) {
      unresolved = resolveExtends(services, {
        problems,
        dir: path.dirname(file) === workingDir ? workingDir : path.dirname(file),
        loadFile: (abs, from) => {
          if (!existsSync(abs)) {
            problems.push({ message: `extends: ${String(from.value)} not found`, pos: from.pos });
            return undefined;
          }
          return parse(abs, env);
        },
      });
    }
    // include: each entry is a project of its own (its directory, its env file), added to this one.
    const includes = includeEntries(root, workingDir, problems);
    for (const inc of includes) {
      const key = inc.files.join(',');
      if (chain.includes(key)) {
        problems.push({ message: `include: ${inc.text} includes itself (include cycle)`, pos: inc.pos });
        continue;
      }
      const missing = inc.files.find((f) => !existsSync(f));
      if (missing) {
        problems.push({ message: `include: ${display(missing)} not found`, pos: inc.pos });
        continue;
      }
      const envFiles = inc.envFiles.length ? inc.envFiles : [path.join(inc.projectDir, '.env')].filter(isFile);
      const badEnv = envFiles.find((f) => !existsSync(f));
      if (badEnv) {
        problems.push({ message: `include: env file ${display(badEnv)} not found`, pos: inc.pos });
        continue;
      }
      const incEnv = withDotenv(env, envFiles, display, problems);
      let sub: PMap | undefined;
      for (const f of inc.files) {
        const l = project(f, inc.projectDir, incEnv, [...chain, key]);
        if (!l) continue;
        unresolved = new Set([...unresolved, ...l.unresolved]);
        sub = sub ? mergeFiles(sub, l.root) : l.root;
      }
      if (!sub) continue;
      rebaseResources(sub, inc.projectDir);
      addIncluded(root, sub, display(inc.files[0]!), problems);
    }
    root.entries.delete('include');
    return { root, unresolved };
  };
  return { project };
}

/** Included resources join the project; one defined on both sides is an error, as in Compose. */
function addIncluded(root: PMap, sub: PMap, from: string, problems: Problem[]): void {
  for (const kind of ['services', 'volumes', 'networks', 'secrets', 'configs']) {
    const theirs = sub.entries.get(kind)?.value;
    if (!theirs || !isPMap(theirs)) continue;
    let ours = root.entries.get(kind)?.value;
    if (!ours || !isPMap(ours)) {
      ours = { kind: 'map', entries: new Map(), pos: theirs.pos };
      root.entries.set(kind, { keyPos: sub.entries.get(kind)!.keyPos, value: ours });
    }
    for (const [name, e] of theirs.entries) {
      const mine = ours.entries.get(name);
      if (mine) {
        if (kind === 'services' || JSON.stringify(plain(mine.value)) !== JSON.stringify(plain(e.value))) {
          problems.push({ message: `${kind}.${name} conflicts with the one imported from ${from}`, pos: mine.keyPos });
        }
        continue;
      }
      ours.entries.set(name, e);
    }
  }
}

function plain(n: PNode): unknown {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'seq') return n.items.map(plain);
  return Object.fromEntries([...n.entries].map(([k, e]) => [k, plain(e.value)]));
}

/** What normalize may ask of the host: whether a file exists, what a path is, an env file's text. */
function hostFiles(display: (abs: string) => string): HostFiles {
  return {
    exists: (abs) => existsSync(abs),
    kind: (abs) => {
      try {
        const st = statSync(abs);
        return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
      } catch {
        return 'missing';
      }
    },
    read: (abs) => (isFile(abs) ? readFileSync(abs, 'utf8') : undefined),
    display,
  };
}

/** The variables interpolation sees: the environment over the env files (as in Compose). */
export function environmentFor(options: LoadOptions): Env {
  return planProject(options).env;
}

/** `base` plus the variables of `files` (read in order, later files win); variables already in `base` win over all of them. */
function withDotenv(base: Env, files: string[], display: (abs: string) => string, problems: Problem[]): Env {
  const fromFile: Record<string, string | undefined> = {};
  for (const abs of files) {
    const parsed = parseDotenv(readFileSync(abs, 'utf8'), display(abs));
    problems.push(...parsed.problems);
    for (const e of parsed.entries) {
      if (e.value === undefined) {
        if (base[e.name] !== undefined) fromFile[e.name] = base[e.name];
        continue;
      }
      // Values in an env file may refer to earlier ones and to the environment.
      const r = interpolate(e.value, { ...fromFile, ...base });
      for (const err of r.errors) problems.push({ message: `${e.name}: ${err}`, pos: e.pos });
      fromFile[e.name] = r.value;
    }
  }
  return { ...fromFile, ...base };
}

/**
 * Interpolates every string value; keys stay as written. `environment` values are left for the
 * model (they resolve at apply time), but what Compose refuses in them is refused here, file by
 * file before merging, as Compose does (a later file's value must not hide an earlier mistake).
 */
function interpolateTree(n: PNode, env: Env, problems: Problem[], where: string[], deferRequired = false): void {
  if (n.kind === 'map') {
    for (const [k, e] of n.entries) {
      if (where.length === 0 && k.startsWith('x-')) continue;
      if (where.length === 2 && where[0] === 'services' && k === 'environment') {
        checkEnvironment(e.value, env, problems, `services.${where[1]}.environment`, deferRequired);
        continue;
      }
      interpolateTree(e.value, env, problems, [...where, k], deferRequired);
    }
    return;
  }
  if (n.kind === 'seq') {
    n.items.forEach((i) => interpolateTree(i, env, problems, where, deferRequired));
    return;
  }
  if (typeof n.value !== 'string' || !n.value.includes('$')) return;
  const r = interpolate(n.value, env);
  for (const e of r.errors) problems.push({ message: `${where.join('.')}: ${e}`, pos: n.pos });
  n.template = n.value;
  n.vars = r.vars;
  n.value = r.value;
}

function checkEnvironment(n: PNode, env: Env, problems: Problem[], where: string, deferRequired: boolean): void {
  const check = (name: string, text: string, pos: SourcePos) => {
    if (!text.includes('$')) return;
    for (const e of interpolate(text, env).errors) {
      if (!(deferRequired && e.startsWith('required variable'))) problems.push({ message: `${where}.${name}: ${e}`, pos });
    }
  };
  if (n.kind === 'map') {
    for (const [k, e] of n.entries) if (isPScalar(e.value) && typeof e.value.value === 'string') check(k, e.value.value, e.value.pos);
  } else if (n.kind === 'seq') {
    for (const i of n.items) {
      if (!isPScalar(i) || typeof i.value !== 'string') continue;
      const eq = i.value.indexOf('=');
      if (eq > 0) check(i.value.slice(0, eq), i.value.slice(eq + 1), i.pos);
    }
  }
}

/** Compose's project name rules: lowercase letters, digits, dashes and underscores. */
export function projectNameOf(text: string): string {
  const name = text.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
  return name || 'default';
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
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
