/**
 * `scripts/generate.mjs`: argument parsing and output for the generator (testable here,
 * the script only calls generateCommand).
 */
import { existsSync } from 'node:fs';
import type { LoadOptions } from '../compose/load.js';
import path from 'node:path';
import { commandArgs } from '../ui/args.js';
import { StackportError } from '../errors.js';
import type { Warning } from '../model/app.js';
import { ENTRY_LABEL, TARGETS, type Target } from './emit.js';
import { generate, type GenerateResult } from './generate.js';
import { stageManifests } from './stage.js';
import { PROJECT as DEMO_PROJECT } from '../stack/env-file.js';
import { DEMO_FILE } from '../stack/project.js';
import { DEFAULT_OPTIONS, type TransformOptions } from './transform.js';
import { schemaValidator, type ObjectValidator } from './validate.js';

/** The demo's env file (`make up` writes it: credentials and the image choice; git-ignored). */
const DEMO_ENV_FILE = 'compose/.env';

export const USAGE = `usage: npx zx scripts/generate.mjs [options]

  -f, --file <compose.yaml>   Compose file; several are merged in order, as docker compose -f a -f b does
                              (default: COMPOSE_FILE, else with --project-directory its compose.yaml and
                              override, else the demo, compose/compose.yaml, project stackport: its tracked
                              files as on a fresh clone, its secret files from compose/.env)
  -o, --out <dir>             output directory (default manifests)
      --target kind|kubeadm   overlay the top-level kustomization applies (default kind)
      --namespace <name>      put everything in this namespace (default: one named after the project,
                              created with the tree; default and kube-* are used as they are)
      --profile <name>        enable a Compose profile (repeatable; * for all; default COMPOSE_PROFILES)
      --env-file <file>       variables for interpolation, instead of the project directory's .env
                              (repeatable, later files win); secret values from it go only into
                              base/secrets/ (mode 0600, git-ignored by the tree's .gitignore)
      --project-directory <dir>  relative paths, .env and the default project name are taken from here
                              (default: the first Compose file's directory)
  -p, --project-name <name>   Compose project name (default: COMPOSE_PROJECT_NAME, name:, the project
                              directory's name; stackport for the demo)
      --entry <service>       the service reachable from the host (default: the published one nothing depends on)
      --host-port <port>      host port of the entry on 127.0.0.1 (default 8090)
      --node-port <port>      NodePort of the entry service (default: the API server allocates one;
                              the entry Service is labelled stackport.dev/entry=true)
      --wait-image <image>    image for depends_on init containers (default: self, the dependant's own image)
      --build-tag <tag>       tag for images built without one (default latest)
      --volume-size <size>    claim size for named volumes (default 1Gi)
      --check                 exit 1 with a diff when the output directory is stale; write nothing
                              (the secret files under base/secrets/ are not compared, not needed)
      --stage <dir>           write the tree to <dir> instead of the output directory (rendered once,
                              with --env-file), ready for kubectl apply -k <dir>
  -q, --quiet                 print problems only
  -h, --help`;

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Injected in tests; the script uses kubernetes-models. */
  validator?: () => Promise<ObjectValidator>;
  cwd?: string;
  /** The environment (default process.env): COMPOSE_FILE, COMPOSE_PROFILES, COMPOSE_PROJECT_NAME, interpolation. */
  env?: Record<string, string | undefined>;
}

const defaultIO: CommandIO = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

export interface ParsedArgs {
  /** The first Compose file (the demo's when none is given; empty when COMPOSE_FILE or the project directory decide). */
  file: string;
  /** Every -f, in order (empty: COMPOSE_FILE, the project directory's compose.yaml, or the demo). */
  files: string[];
  /** No -f, no COMPOSE_FILE, no --project-directory: the demo's defaults. */
  demo: boolean;
  out: string;
  target: Target;
  check: boolean;
  stage?: string;
  quiet: boolean;
  help: boolean;
  /** The first --env-file (kept for callers; envFiles has them all). */
  envFile?: string;
  envFiles: string[];
  projectDirectory?: string;
  profiles?: string[];
  projectName?: string;
  transform: TransformOptions;
}

function port(value: string | undefined, flag: string, fallback: number, min = 1, max = 65535): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new StackportError(`${flag} must be a port number (${min}-${max}), not "${value}"`, { exitCode: 2 });
  }
  return Number(value);
}

export function parseGenerateArgs(argv: string[], cwd = process.cwd(), env: Record<string, string | undefined> = process.env): ParsedArgs {
  const parsed = commandArgs(argv, {
    file: { type: 'string', short: 'f', multiple: true },
    out: { type: 'string', short: 'o' },
    target: { type: 'string' },
    namespace: { type: 'string' },
    profile: { type: 'string', multiple: true },
    'env-file': { type: 'string', multiple: true },
    'project-directory': { type: 'string' },
    'project-name': { type: 'string', short: 'p' },
    entry: { type: 'string' },
    'host-port': { type: 'string' },
    'node-port': { type: 'string' },
    'wait-image': { type: 'string' },
    'build-tag': { type: 'string' },
    'volume-size': { type: 'string' },
    check: { type: 'boolean' },
    stage: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const v = parsed.values;
  const target = (v.target ?? 'kind') as Target;
  if (!TARGETS.includes(target)) throw new StackportError(`--target must be kind or kubeadm, not "${v.target}"`, { exitCode: 2 });
  if (v.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.namespace)) {
    throw new StackportError(`--namespace "${v.namespace}" is not a valid namespace name`, { exitCode: 2 });
  }
  if (v['volume-size'] !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(v['volume-size'])) {
    throw new StackportError(`--volume-size must be a quantity like 1Gi, not "${v['volume-size']}"`, { exitCode: 2 });
  }
  if (v['build-tag'] !== undefined && !/^[\w][\w.-]{0,127}$/.test(v['build-tag'])) {
    throw new StackportError(`--build-tag "${v['build-tag']}" is not a valid image tag`, { exitCode: 2 });
  }
  for (const [flag, values] of [['--file', v.file], ['--env-file', v['env-file']]] as const) {
    if (values?.some((x) => x === '')) throw new StackportError(`${flag} needs a file name, not an empty string`, { exitCode: 2, hint: 'see --help' });
  }
  if (v['project-directory'] === '') throw new StackportError('--project-directory needs a directory, not an empty string', { exitCode: 2, hint: 'see --help' });
  const files = v.file ?? [];
  // docker compose with no -f: COMPOSE_FILE, else compose.yaml from the project directory; stackport's own default is the demo.
  const demo = !files.length && !env.COMPOSE_FILE && v['project-directory'] === undefined;
  return {
    file: files[0] ?? (demo ? DEMO_FILE : ''),
    files,
    demo,
    out: v.out ?? 'manifests',
    target,
    check: v.check ?? false,
    stage: v.stage,
    quiet: v.quiet ?? false,
    help: v.help ?? false,
    envFile: v['env-file']?.[0],
    envFiles: v['env-file'] ?? [],
    projectDirectory: v['project-directory'],
    profiles: v.profile,
    // The demo's file carries no `name:` (Compose v1 refuses it) and its COMPOSE_PROJECT_NAME lives in
    // the git-ignored compose/.env: with the documented defaults the project is stackport, fresh clone or not.
    projectName: v['project-name'] ?? (demo ? DEMO_PROJECT : undefined),
    transform: {
      ...DEFAULT_OPTIONS,
      displayBase: cwd,
      namespace: v.namespace,
      entry: v.entry,
      hostPort: port(v['host-port'], '--host-port', DEFAULT_OPTIONS.hostPort),
      nodePort: v['node-port'] === undefined ? undefined : port(v['node-port'], '--node-port', 0, 30000, 32767),
      waitImage: v['wait-image'] ?? DEFAULT_OPTIONS.waitImage,
      buildTag: v['build-tag'] ?? DEFAULT_OPTIONS.buildTag,
      volumeSize: v['volume-size'] ?? DEFAULT_OPTIONS.volumeSize,
    },
  };
}

/** The Compose files a result came from, as the user named them (`a.yaml + b.yaml`). */
function shownFiles(result: GenerateResult, cwd: string): string {
  return (result.manifests.app.files ?? [result.manifests.app.file]).map((f) => path.relative(cwd, f) || f).join(' + ');
}

export function formatWarning(w: Warning): string {
  const where = w.pos ? `${w.pos.file}:${w.pos.line}:${w.pos.col}: ` : '';
  return `${where}warning: ${w.message}`;
}

/** Runs the command; resolves with the exit code (0, or 1 for --check on a stale tree). Throws StackportError for the rest. */
export async function generateCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const args = parseGenerateArgs(argv, cwd, env);
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  // The demo's tracked files never read compose/.env (an env file that defines nothing); its secrets do, below.
  const load: LoadOptions = {
    files: args.demo ? [DEMO_FILE] : args.files,
    envFiles: args.envFiles.length ? args.envFiles : args.demo ? ['/dev/null'] : [],
    projectDirectory: args.projectDirectory,
    profiles: args.profiles,
    projectName: args.projectName,
    env,
    cwd,
    displayBase: cwd,
    requiredAtApply: 'empty-env-file',
  };
  const out = path.resolve(cwd, args.out);
  // The demo's tracked files are the same on every machine (make generate-check on a fresh clone);
  // only its secret files take compose/.env, which make up writes.
  const demoEnv = path.resolve(cwd, DEMO_ENV_FILE);
  const secretsFrom = args.demo && !args.envFiles.length && existsSync(demoEnv) ? { ...load, envFiles: [demoEnv] } : undefined;
  const validate = await (io.validator ?? schemaValidator)();
  if (args.stage) {
    if (args.check) throw new StackportError('--check and --stage do not go together', { exitCode: 2, hint: '--check compares the output directory; --stage writes another one' });
    const staged = stageManifests({ dir: path.resolve(cwd, args.stage), load, transform: args.transform, target: args.target, validate, secretsFrom });
    for (const w of staged.result.warnings) io.err(formatWarning(w));
    io.out(staged.dir);
    if (!args.quiet) io.err(`staged ${shownFiles(staged.result, cwd)} for ${args.target} with ${staged.secrets.length} secret file(s) in namespace ${staged.result.manifests.namespace}: kubectl apply -k ${staged.dir}`);
    return 0;
  }
  const result = generate({ load, transform: args.transform, out, target: args.target, check: args.check, validate, secretsFrom });
  for (const w of result.warnings) io.err(formatWarning(w));
  const shownOut = path.relative(cwd, out) || out;
  if (args.check) {
    if (result.stale) {
      const d = result.stale;
      throw new StackportError(`${shownOut}/ is stale: ${d.changed.length} changed, ${d.added.length} missing, ${d.removed.length} extra file(s)`, {
        details: d.text,
        hint: `regenerate: npx zx scripts/generate.mjs ${argv.filter((a) => a !== '--check').join(' ')}`.trim(),
      });
    }
    if (!args.quiet) io.out(`${shownOut}/ is up to date with ${shownFiles(result, cwd)}`);
    return 0;
  }
  if (!args.quiet) {
    const m = result.manifests;
    io.out(`wrote ${shownOut}/: ${result.objectCount} objects for ${m.app.services.length} services (${result.files.size} files), target ${args.target}, namespace ${m.namespace}`);
    if (m.entry) {
      const p = m.entry.ports[0]!;
      const nodePort = p.nodePort !== undefined ? `NodePort ${p.nodePort}` : `NodePort allocated when applied: kubectl -n ${m.namespace} get svc -l ${ENTRY_LABEL}=true -o jsonpath='{.items[0].spec.ports[0].nodePort}'`;
      io.out(`entry: service ${m.entry.service} (Service ${m.entry.name}, container port ${p.port}; ${nodePort})`);
    }
    io.out(`images the nodes need (imagePullPolicy IfNotPresent): ${m.images.join(', ')}`);
    if (result.secrets.size) io.out(`secrets: ${result.secrets.size} file(s) under ${shownOut}/base/secrets/ (mode 0600, git-ignored): ${m.secretGenerators.map((g) => g.name).join(', ')}`);
    io.out(`apply: kubectl apply -k ${shownOut}`);
  }
  return 0;
}
