/**
 * `scripts/generate.mjs`: argument parsing and output for the generator (testable here,
 * the script only calls generateCommand).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StackportError } from '../errors.js';
import type { Warning } from '../model/app.js';
import { TARGETS, type Target } from './emit.js';
import { generate } from './generate.js';
import { stageManifests } from './stage.js';
import { DEFAULT_OPTIONS, type TransformOptions } from './transform.js';
import { schemaValidator, type ObjectValidator } from './validate.js';

export const USAGE = `usage: npx zx scripts/generate.mjs [options]

  -f, --file <compose.yaml>   Compose file (default compose/compose.yaml)
  -o, --out <dir>             output directory (default manifests)
      --target kind|kubeadm   overlay the top-level kustomization applies (default kind)
      --namespace <name>      put everything in this namespace (and create it)
      --profile <name>        enable a Compose profile (repeatable; * for all)
      --env-file <file>       variables for interpolation (values from it never go into the output)
      --project-name <name>   Compose project name (default: name:, COMPOSE_PROJECT_NAME, directory)
      --entry <service>       the service reachable from the host (default: the published one nothing depends on)
      --host-port <port>      host port of the entry on 127.0.0.1 (default 8090)
      --node-port <port>      NodePort of the entry service (default 30080)
      --wait-image <image>    image for depends_on init containers (default: self, the dependant's own image)
      --build-tag <tag>       tag for images built without one (default latest)
      --volume-size <size>    claim size for named volumes (default 1Gi)
      --check                 exit 1 with a diff when the output directory is stale; write nothing
      --stage <dir>           copy the output directory to <dir> with secrets and image overrides from
                              the env file, ready for kubectl apply -k <dir>
  -q, --quiet                 print problems only
  -h, --help`;

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Injected in tests; the script uses kubernetes-models. */
  validator?: () => Promise<ObjectValidator>;
  cwd?: string;
}

const defaultIO: CommandIO = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

export interface ParsedArgs {
  file: string;
  out: string;
  target: Target;
  check: boolean;
  stage?: string;
  quiet: boolean;
  help: boolean;
  envFile?: string;
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

export function parseGenerateArgs(argv: string[], cwd = process.cwd()): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        file: { type: 'string', short: 'f' },
        out: { type: 'string', short: 'o' },
        target: { type: 'string' },
        namespace: { type: 'string' },
        profile: { type: 'string', multiple: true },
        'env-file': { type: 'string' },
        'project-name': { type: 'string' },
        entry: { type: 'string' },
        'host-port': { type: 'string' },
        'node-port': { type: 'string' },
        'wait-image': { type: 'string' },
        'build-tag': { type: 'string' },
        'volume-size': { type: 'string' },
        check: { type: 'boolean' },
        stage: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new StackportError(e instanceof Error ? e.message : String(e), { exitCode: 2, hint: 'see --help' });
  }
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
  return {
    file: v.file ?? 'compose/compose.yaml',
    out: v.out ?? 'manifests',
    target,
    check: v.check ?? false,
    stage: v.stage,
    quiet: v.quiet ?? false,
    help: v.help ?? false,
    envFile: v['env-file'],
    profiles: v.profile,
    projectName: v['project-name'],
    transform: {
      ...DEFAULT_OPTIONS,
      displayBase: cwd,
      namespace: v.namespace,
      entry: v.entry,
      hostPort: port(v['host-port'], '--host-port', DEFAULT_OPTIONS.hostPort),
      nodePort: port(v['node-port'], '--node-port', DEFAULT_OPTIONS.nodePort, 30000, 32767),
      waitImage: v['wait-image'] ?? DEFAULT_OPTIONS.waitImage,
      buildTag: v['build-tag'] ?? DEFAULT_OPTIONS.buildTag,
      volumeSize: v['volume-size'] ?? DEFAULT_OPTIONS.volumeSize,
    },
  };
}

export function formatWarning(w: Warning): string {
  const where = w.pos ? `${w.pos.file}:${w.pos.line}:${w.pos.col}: ` : '';
  return `${where}warning: ${w.message}`;
}

/** Runs the command; resolves with the exit code (0, or 1 for --check on a stale tree). Throws StackportError for the rest. */
export async function generateCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const args = parseGenerateArgs(argv, cwd);
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const load = { file: path.resolve(cwd, args.file), envFile: args.envFile && path.resolve(cwd, args.envFile), profiles: args.profiles, projectName: args.projectName, displayBase: cwd };
  const out = path.resolve(cwd, args.out);
  if (args.stage) {
    const staged = stageManifests({ manifests: out, dir: path.resolve(cwd, args.stage), load, transform: args.transform, target: args.target });
    io.out(staged.dir);
    if (!args.quiet) io.err(`staged ${path.relative(cwd, out) || out} for ${args.target} with ${staged.secrets.length} secret file(s) and ${staged.images.length} image override(s): kubectl apply -k ${staged.dir}`);
    return 0;
  }
  const validate = await (io.validator ?? schemaValidator)();
  const result = generate({ load, transform: args.transform, out, target: args.target, check: args.check, validate });
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
    if (!args.quiet) io.out(`${shownOut}/ is up to date with ${path.relative(cwd, load.file)}`);
    return 0;
  }
  if (!args.quiet) {
    const m = result.manifests;
    io.out(`wrote ${shownOut}/: ${result.objectCount} objects for ${m.app.services.length} services (${result.files.size} files), target ${args.target}`);
    if (m.entry) {
      const p = m.entry.ports[0]!;
      io.out(`entry: ${m.entry.service} -> http://127.0.0.1:${p.hostPort} (NodePort ${p.nodePort}, container port ${p.port})`);
    }
    io.out(`images the nodes need (imagePullPolicy IfNotPresent): ${m.images.join(', ')}`);
    if (m.secretGenerators.length) io.out(`secrets: ${m.secretGenerators.map((g) => g.name).join(', ')} are filled at apply time (--stage <dir> --env-file <file>)`);
  }
  return 0;
}
