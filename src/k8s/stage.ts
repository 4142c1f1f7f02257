/**
 * stage: the manifests as they are applied. Copies the committed tree to a directory of
 * its own and writes what must never be committed into it: the secretGenerator files
 * (values from the env file) and `images:` overrides for images the env file chooses
 * (`${POSTGRES_IMAGE:-postgres:15}`). `kubectl apply -k <dir>` then applies the target.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { environmentFor, loadCompose, type LoadOptions } from '../compose/load.js';
import { interpolate, type Env } from '../compose/interpolate.js';
import { StackportError } from '../errors.js';
import type { App } from '../model/app.js';
import type { SecretFile } from './config-and-secrets.js';
import { toYaml, type Target } from './emit.js';
import { transform, type TransformOptions } from './transform.js';
import { imageRef } from './workloads.js';

export interface StageOptions {
  /** The committed tree (scripts/generate.mjs -o). */
  manifests: string;
  /** Where to stage; default: a new temp directory. */
  dir?: string;
  load: LoadOptions;
  transform: TransformOptions;
  target: Target;
}

export interface Staged {
  dir: string;
  /** Secret files written (relative to base/). */
  secrets: string[];
  /** Images replaced through kustomize `images:`. */
  images: { name: string; newName: string; newTag?: string }[];
}

export function stageManifests(options: StageOptions): Staged {
  if (!existsSync(path.join(options.manifests, 'base', 'kustomization.yaml'))) {
    throw new StackportError(`${options.manifests} has no generated manifests`, { hint: 'run npx zx scripts/generate.mjs first' });
  }
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'stackport-manifests-'));
  mkdirSync(dir, { recursive: true });
  cpSync(options.manifests, dir, { recursive: true });
  // The committed tree was generated without the env file; the staged one uses it.
  const generated = loadCompose({ ...options.load, envFile: undefined });
  const actual = loadCompose(options.load);
  const env = environmentFor(options.load);
  const m = transform(actual, options.transform);
  const problems: string[] = [];
  const written: string[] = [];
  for (const f of m.secretFiles) {
    const full = path.join(dir, 'base', f.path);
    mkdirSync(path.dirname(full), { recursive: true });
    const text = secretFileText(f, env, problems);
    if (text === undefined) continue;
    if (typeof text === 'string') writeFileSync(full, text, { mode: 0o600 });
    else copyFileSync(text.copy, full);
    written.push(f.path);
  }
  if (problems.length) {
    throw new StackportError(`cannot stage the secrets:\n${problems.map((p) => `  ${p}`).join('\n')}`, { exitCode: 2, hint: 'set the variables in the env file (--env-file compose/.env; `make up` writes it)' });
  }
  const images = imageOverrides(generated, actual, options.transform.buildTag);
  const root = path.join(dir, 'kustomization.yaml');
  const kustomization: Record<string, unknown> = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [`overlays/${options.target}`],
  };
  if (images.length) kustomization.images = images;
  writeFileSync(root, `# Staged by stackport for ${options.target}: holds secrets, do not commit.\n${toYaml(kustomization)}`);
  return { dir, secrets: written, images };
}

function secretFileText(f: SecretFile, env: Env, problems: string[]): string | { copy: string } | undefined {
  if (f.kind === 'env') {
    const lines: string[] = [];
    for (const v of f.vars) {
      let value = v.value;
      if (v.template !== undefined) {
        const r = interpolate(v.template, env);
        for (const e of r.errors) problems.push(`services.${f.service}.environment.${v.name}: ${e}`);
        value = r.value;
      }
      if (/[\r\n]/.test(value)) {
        problems.push(`services.${f.service}.environment.${v.name}: a value with a line break cannot go through a kustomize env file`);
        continue;
      }
      lines.push(`${v.name}=${value}`);
    }
    return lines.join('\n') + '\n';
  }
  const o = f.object;
  if (o.environment !== undefined) {
    const value = env[o.environment];
    if (value === undefined) {
      problems.push(`${o.name}: variable ${o.environment} is not set`);
      return undefined;
    }
    return value;
  }
  if (o.file && existsSync(o.file)) return { copy: o.file };
  problems.push(`${o.name}: ${o.fileText ?? o.file} does not exist`);
  return undefined;
}

/** kustomize `images:` entries for images the env file changes. */
export function imageOverrides(generated: App, actual: App, buildTag: string): { name: string; newName: string; newTag?: string }[] {
  const out = new Map<string, { name: string; newName: string; newTag?: string }>();
  for (const g of generated.services) {
    const a = actual.services.find((s) => s.name === g.name);
    if (!a) continue;
    const from = imageRef(g, buildTag);
    const to = imageRef(a, buildTag);
    if (from === to) continue;
    const [name] = splitImage(from);
    const [newName, newTag] = splitImage(to);
    out.set(from, { name, newName, ...(newTag ? { newTag } : {}) });
  }
  return [...out.values()].sort((x, y) => x.name.localeCompare(y.name));
}

function splitImage(ref: string): [string, string | undefined] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}
