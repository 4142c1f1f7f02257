/**
 * generate: Compose file -> validated kustomize tree on disk (or, with check, the diff
 * against what is on disk). The library entry point behind scripts/generate.mjs.
 * The tree is complete: the secretGenerator inputs are written into it (base/secrets/,
 * mode 0600, git-ignored by the tree's .gitignore), so `kubectl apply -k <out>` takes it as is.
 */
import path from 'node:path';
import { environmentFor, loadProject, type LoadOptions } from '../compose/load.js';
import { StackportError, ValidationError } from '../errors.js';
import type { Warning } from '../model/app.js';
import { diffTree, readTree, renderFiles, writeTree, type SecretContent, type Target, type TreeDiff } from './emit.js';
import { resolveSecretFiles } from './secret-files.js';
import { transform, type Manifests, type TransformOptions } from './transform.js';
import type { ObjectValidator } from './validate.js';

export interface GenerateOptions {
  load: LoadOptions;
  transform: TransformOptions;
  out: string;
  target: Target;
  /** Compare with out instead of writing. */
  check?: boolean;
  /** Schema validation (kubernetes-models); required unless a test renders without it. */
  validate?: ObjectValidator;
  /** Resolve the secret files (default true; --check compares tracked files only and skips them). */
  secrets?: boolean;
  /** Where the secret values come from, when not from `load` (the demo: compose/.env; see generate-command). */
  secretsFrom?: LoadOptions;
  /** The project the command loaded already (loadProject's result for `load`): not read again. */
  loaded?: LoadedProject;
}

/** What loadProject() returns: the model and the variables it was loaded with. */
export type LoadedProject = ReturnType<typeof loadProject>;

export interface GenerateResult {
  manifests: Manifests;
  /** The tracked files (what --check compares). */
  files: Map<string, string>;
  /** The secret files under base/secrets/ (empty when rendered without secrets). */
  secrets: Map<string, SecretContent>;
  /** With check: what differs (undefined when fresh). */
  stale?: TreeDiff;
  warnings: Warning[];
  objectCount: number;
}

/** Load, transform and render, without writing anything. */
export function render(options: Omit<GenerateOptions, 'out' | 'check'>): GenerateResult {
  // The one load of the command: the Compose files are read and parsed here only, the variables reused below.
  const { app, plan } = options.loaded ?? loadProject(options.load);
  const manifests = transform(app, options.transform);
  if (manifests.problems.length) {
    throw new ValidationError(manifests.problems.map((p) => new StackportError(p.message, { position: p.pos, exitCode: 2 })));
  }
  if (options.validate) {
    const problems: string[] = [];
    for (const f of manifests.files) for (const o of f.objects) {
      const p = options.validate(o);
      if (p) problems.push(`base/${f.path}: ${p}`);
    }
    if (problems.length) {
      throw new StackportError(`generated objects fail the Kubernetes schema (a stackport bug, or a value Kubernetes refuses):\n${problems.join('\n')}`, {
        hint: 'report it with the Compose file; nothing was written',
      });
    }
  }
  const base = options.load.displayBase ?? process.cwd();
  const source = (app.files ?? [app.file]).map((f) => path.relative(base, f) || path.basename(f)).join(' + ');
  const files = renderFiles(manifests, { target: options.target, source });
  const secrets = options.secrets === false ? new Map<string, SecretContent>() : resolveSecretFiles(manifests.secretFiles, options.secretsFrom ? environmentFor(options.secretsFrom) : plan.env);
  const objectCount = manifests.files.reduce((n, f) => n + f.objects.length, 0);
  return { manifests, files, secrets, warnings: manifests.warnings, objectCount };
}

export function generate(options: GenerateOptions): GenerateResult {
  const result = render({ ...options, secrets: options.check ? false : options.secrets });
  if (options.check) {
    const diff = diffTree(readTree(options.out), result.files);
    if (diff.added.length || diff.removed.length || diff.changed.length) result.stale = diff;
    return result;
  }
  writeRendered(options.out, result);
  return result;
}

/** Writes a rendered tree (tracked files and secret files) to dir, atomically. */
export function writeRendered(dir: string, result: Pick<GenerateResult, 'files' | 'secrets'>): void {
  writeTree(dir, result.files, result.secrets);
}
