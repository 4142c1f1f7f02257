/**
 * stage: the tree as it is applied, in a directory of its own (outside the committed
 * manifests/): the tracked files and the secret files, rendered once with the env file
 * (`--env-file`), so images, ports and secrets all come from the same interpolation.
 * `kubectl apply -k <dir>` then applies the target. Reuses a render when it is given one
 * (migrate renders once and stages that), else renders itself.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadOptions } from '../compose/load.js';
import type { Target } from './emit.js';
import { render, writeRendered, type GenerateResult, type LoadedProject } from './generate.js';
import type { TransformOptions } from './transform.js';
import type { ObjectValidator } from './validate.js';

export interface StageOptions {
  /** Where to stage; default: a new temp directory. Replaced atomically (refuses a directory stackport did not write). */
  dir?: string;
  load: LoadOptions;
  transform: TransformOptions;
  target: Target;
  /** What generate computed (with its secrets); rendered from load/transform when absent. */
  rendered?: GenerateResult;
  validate?: ObjectValidator;
  /** Where the secret values come from when not from load (see GenerateOptions.secretsFrom). */
  secretsFrom?: LoadOptions;
  /** The project as the command loaded it (not read again). */
  loaded?: LoadedProject;
}

export interface Staged {
  dir: string;
  /** Secret files written (relative to base/). */
  secrets: string[];
  result: GenerateResult;
}

export function stageManifests(options: StageOptions): Staged {
  const result = options.rendered ?? render({ load: options.load, loaded: options.loaded, transform: options.transform, target: options.target, validate: options.validate, secretsFrom: options.secretsFrom });
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'stackport-manifests-'));
  writeRendered(dir, result);
  return { dir, secrets: [...result.secrets.keys()].map((p) => p.replace(/^base\//, '')), result };
}
