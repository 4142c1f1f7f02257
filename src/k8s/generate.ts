/**
 * generate: Compose file -> validated kustomize tree on disk (or, with check, the diff
 * against what is on disk). The library entry point behind scripts/generate.mjs.
 */
import path from 'node:path';
import { loadCompose, type LoadOptions } from '../compose/load.js';
import { StackportError, ValidationError } from '../errors.js';
import type { Warning } from '../model/app.js';
import { diffTree, readTree, renderFiles, writeTree, type Target, type TreeDiff } from './emit.js';
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
}

export interface GenerateResult {
  manifests: Manifests;
  files: Map<string, string>;
  /** With check: what differs (undefined when fresh). */
  stale?: TreeDiff;
  warnings: Warning[];
  objectCount: number;
}

/** Load, transform and render, without touching the disk. */
export function render(options: Omit<GenerateOptions, 'out' | 'check'>): GenerateResult {
  const app = loadCompose(options.load);
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
  const source = path.relative(options.load.displayBase ?? process.cwd(), path.resolve(options.load.file)) || path.basename(options.load.file);
  const files = renderFiles(manifests, { target: options.target, source, namespace: options.transform.namespace });
  const objectCount = manifests.files.reduce((n, f) => n + f.objects.length, 0);
  return { manifests, files, warnings: manifests.warnings, objectCount };
}

export function generate(options: GenerateOptions): GenerateResult {
  const result = render(options);
  if (options.check) {
    const diff = diffTree(readTree(options.out), result.files);
    if (diff.added.length || diff.removed.length || diff.changed.length) result.stale = diff;
    return result;
  }
  writeTree(options.out, result.files);
  return result;
}
