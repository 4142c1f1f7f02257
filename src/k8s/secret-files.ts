/**
 * secret files: the inputs of the secretGenerators (config-and-secrets.ts), resolved from the
 * environment the Compose file was loaded with (the shell over the env file, as in Compose).
 * They are written with the tree under base/secrets/ (mode 0600, git-ignored), so the tree
 * `generate` writes is one `kubectl apply -k` takes as is. This is the loader's edge of the
 * generator: it reads the environment and checks that secret files exist.
 */
import { existsSync } from 'node:fs';
import { interpolate, type Env } from '../compose/interpolate.js';
import { StackportError, ValidationError } from '../errors.js';
import type { SourcePos } from '../model/app.js';
import type { SecretFile } from './config-and-secrets.js';
import type { SecretContent } from './emit.js';

interface Problem {
  message: string;
  pos?: SourcePos;
}

/**
 * Tree path (base/...) -> content of every secret file. Everything Compose would refuse
 * (`${X:?message}` unset, a secret whose file or variable is missing) is reported at once,
 * with the position in the Compose file (exit 2); nothing is returned half-done.
 */
export function resolveSecretFiles(files: SecretFile[], env: Env): Map<string, SecretContent> {
  const out = new Map<string, SecretContent>();
  const problems: Problem[] = [];
  for (const f of files) {
    const content = contentOf(f, env, problems);
    if (content) out.set(`base/${f.path}`, content);
  }
  if (problems.length) {
    const at = (p: Problem) => p.pos ?? { file: '', line: 0, col: 0 };
    problems.sort((a, b) => at(a).file.localeCompare(at(b).file) || at(a).line - at(b).line || at(a).col - at(b).col);
    throw new ValidationError(
      problems.map((p) => new StackportError(p.message, { position: p.pos, exitCode: 2 })),
      { hint: 'set the variables (shell or --env-file; the demo: `make up` writes compose/.env) and create the files; nothing was written' },
    );
  }
  return out;
}

function contentOf(f: SecretFile, env: Env, problems: Problem[]): SecretContent | undefined {
  if (f.kind === 'env') {
    const lines: string[] = [];
    for (const v of f.vars) {
      let value = v.value;
      if (v.template !== undefined) {
        const r = interpolate(v.template, env);
        for (const e of r.errors) problems.push({ message: `services.${f.service}.environment.${v.name}: ${e}`, pos: v.pos });
        value = r.value;
      }
      if (/[\r\n]/.test(value)) {
        problems.push({ message: `services.${f.service}.environment.${v.name}: a value with a line break cannot go through a kustomize env file`, pos: v.pos });
        continue;
      }
      lines.push(`${v.name}=${value}`);
    }
    return { text: lines.join('\n') + '\n' };
  }
  const o = f.object;
  if (o.environment !== undefined) {
    const value = env[o.environment];
    if (value === undefined) {
      problems.push({ message: `${o.name}: variable ${o.environment} is not set (the secret is read from it)`, pos: o.pos });
      return undefined;
    }
    return { text: value };
  }
  if (o.file && existsSync(o.file)) return { copy: o.file };
  problems.push({ message: `${o.name}: ${o.fileText ?? o.file} does not exist (the secret is read from it)`, pos: o.pos });
  return undefined;
}
