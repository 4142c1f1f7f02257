/**
 * A service's environment: `env_file` entries, then `environment` (list or mapping) over them;
 * values that reference variables stay templates (resolved when the manifests are applied).
 */
import path from 'node:path';
import type { EnvVar, SourcePos } from '../model/app.js';
import { parseDotenv } from './dotenv.js';
import { interpolate } from './interpolate.js';
import { isPMap, isPSeq, type PMap } from './source.js';
import { keyValues, type NormalizeContext, problem, scalarBool, scalarString, scalarText, warn } from './readers.js';

export const SECRET_WORDS = new Set(['PASSWORD', 'PASSWD', 'PASS', 'PWD', 'SECRET', 'TOKEN', 'KEY', 'APIKEY', 'CREDENTIALS', 'CREDENTIAL', 'PRIVATE', 'AUTH', 'SALT', 'DSN']);

/** True when an environment variable's name says it holds a secret (DB_PASSWORD, API_KEY, GITHUB_TOKEN, ...). */
export function isSecretName(name: string): boolean {
  const words = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  // MYSQL_PASSWORD_FILE, TLS_KEY_PATH: the Docker convention for a path to the secret, not the secret.
  if (['FILE', 'PATH', 'DIR', 'LENGTH', 'TTL', 'EXPIRY', 'TIMEOUT'].includes(words[words.length - 1] ?? '')) return false;
  return words.some((w) => SECRET_WORDS.has(w) || /(PASSWORD|SECRET|TOKEN)$/.test(w));
}

export function environment(name: string, n: PMap, ctx: NormalizeContext): EnvVar[] {
  const where = `services.${name}`;
  const vars = new Map<string, EnvVar>();
  // env_file first; `environment` overrides it.
  const envFiles = n.entries.get('env_file')?.value;
  const files: { path: string; required: boolean; pos: SourcePos }[] = [];
  if (envFiles) {
    const items = isPSeq(envFiles) ? envFiles.items : [envFiles];
    items.forEach((item, k) => {
      if (isPMap(item)) {
        const p = scalarString(item.entries.get('path')?.value, `${where}.env_file[${k}].path`, ctx);
        const required = scalarBool(item.entries.get('required')?.value, `${where}.env_file[${k}].required`, ctx) ?? true;
        if (p !== undefined) files.push({ path: p, required, pos: item.pos });
      } else {
        const p = scalarString(item, `${where}.env_file`, ctx);
        if (p !== undefined) files.push({ path: p, required: true, pos: item.pos });
      }
    });
  }
  for (const f of files) {
    const abs = path.resolve(ctx.dir, f.path);
    const text = ctx.files.read(abs);
    if (text === undefined) {
      if (f.required) problem(ctx, f.pos, `${where}.env_file: ${f.path} does not exist`);
      else warn(ctx, f.pos, `${where}.env_file: ${f.path} does not exist; skipped (required: false)`);
      continue;
    }
    const parsed = parseDotenv(text, ctx.files.display(abs));
    for (const p of parsed.problems) problem(ctx, p.pos, p.message);
    for (const entry of parsed.entries) {
      const secret = isSecretName(entry.name);
      if (entry.value === undefined) vars.set(entry.name, { name: entry.name, value: '', template: `\${${entry.name}}`, secret, passThrough: true, pos: entry.pos });
      else vars.set(entry.name, { name: entry.name, value: entry.value, secret, pos: entry.pos });
    }
  }
  for (const kv of keyValues(n.entries.get('environment')?.value, `${where}.environment`, ctx)) {
    if (!/^[^=\s]+$/.test(kv.name)) {
      problem(ctx, kv.pos, `${where}.environment: "${kv.name}" is not a valid variable name`);
      continue;
    }
    const secret = isSecretName(kv.name);
    if (!kv.value) {
      // `KEY` alone (or `KEY:` with no value): Compose passes the variable through from the environment.
      vars.set(kv.name, { name: kv.name, value: '', template: `\${${kv.name}}`, secret, passThrough: true, pos: kv.pos });
      continue;
    }
    const raw = typeof kv.value.value === 'string' ? kv.value.value : scalarText(kv.value);
    if (typeof kv.value.value === 'string' && raw.includes('$')) {
      // The value stays a template (resolved when the manifests are applied), but what Compose refuses is refused now:
      // a required variable (`${X:?msg}`, `${X?msg}`) that is not set, or a malformed reference.
      const r = interpolate(raw, ctx.env);
      for (const err of r.errors) {
        if (!(ctx.deferRequired && err.startsWith('required variable'))) problem(ctx, kv.value.pos, `${where}.environment.${kv.name}: ${err}`);
      }
      if (r.vars.length) {
        vars.set(kv.name, { name: kv.name, value: '', template: raw, secret, pos: kv.pos });
        continue;
      }
      vars.set(kv.name, { name: kv.name, value: r.value, secret, pos: kv.pos });
      continue;
    }
    vars.set(kv.name, { name: kv.name, value: raw, secret, pos: kv.pos });
  }
  return [...vars.values()];
}
