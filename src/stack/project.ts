/**
 * Which Compose files and which project name a command works on, the way Compose decides:
 * files from -f (several, merged in order), else COMPOSE_FILE (split on COMPOSE_PATH_SEPARATOR,
 * default `:`), else the demo's compose/compose.yaml. The project directory is the first file's.
 * Name: STACKPORT_PROJECT (stackport's own override), else COMPOSE_PROJECT_NAME (the shell's,
 * then the project directory's .env), else the last file's top-level `name:`, else the project
 * directory's base name (the demo's default is `stackport`), normalised as Compose does.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT, parseEnvFile } from './env-file.js';

export const DEMO_FILE = 'compose/compose.yaml';

export interface ProjectChoice {
  files: string[];
  projectDir: string;
  /** The demo's own file: its .env is generated, its images come from *_IMAGE variables. */
  demo: boolean;
  name: string;
  /** Where the name came from, for the output. */
  nameFrom: string;
}

export interface ProjectOptions {
  root: string;
  files?: string[];
  env?: NodeJS.ProcessEnv;
  project?: string;
  cwd?: string;
  /** A file's top-level `name:` from a tree read already (prepareStack's one read); default: read the file for it. */
  nameOf?: (file: string) => string | undefined;
}

/** Compose's rule: lower case, only a-z 0-9 _ -, starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export function composeFilesFrom(options: ProjectOptions): string[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.files?.length) return options.files.map((f) => path.resolve(options.root, f));
  if (env.COMPOSE_FILE) return env.COMPOSE_FILE.split(env.COMPOSE_PATH_SEPARATOR ?? ':').filter(Boolean).map((f) => path.resolve(cwd, f));
  return [path.resolve(options.root, env.STACKPORT_COMPOSE_FILE ?? DEMO_FILE)];
}

function topLevelName(file: string): string | undefined {
  try {
    const doc = parse(readFileSync(file, 'utf8'), { logLevel: 'error' }) as { name?: unknown } | null; // Compose's tags (!reset, !override) are the loader's
    return typeof doc?.name === 'string' && !doc.name.includes('$') ? doc.name : undefined;
  } catch {
    return undefined; // the syntax check reports it, with its position
  }
}

export function chooseProject(options: ProjectOptions): ProjectChoice {
  const env = options.env ?? process.env;
  const files = composeFilesFrom(options);
  const projectDir = path.dirname(files[0]!);
  const demo = files.length === 1 && files[0] === path.resolve(options.root, DEMO_FILE);
  const dotenvFile = path.join(projectDir, '.env');
  let dotenvName: string | undefined;
  if (existsSync(dotenvFile)) {
    try {
      dotenvName = parseEnvFile(readFileSync(dotenvFile, 'utf8'), dotenvFile).get('COMPOSE_PROJECT_NAME');
    } catch {
      dotenvName = undefined;
    }
  }
  const named = files.map((f) => (options.nameOf ?? topLevelName)(f)).filter((n): n is string => Boolean(n)).pop();
  const pick = (
    [
      [options.project, 'given'],
      [env.STACKPORT_PROJECT, 'STACKPORT_PROJECT'],
      [env.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME'],
      [dotenvName, `COMPOSE_PROJECT_NAME in ${path.relative(process.cwd(), dotenvFile)}`],
      [named, 'the file\'s name:'],
      [demo ? PROJECT : path.basename(projectDir), demo ? 'the demo\'s default' : 'the project directory'],
    ] as const
  ).find(([n]) => n && normalizeProjectName(n))!;
  return { files, projectDir, demo, name: normalizeProjectName(pick[0]!), nameFrom: pick[1] };
}
