/**
 * Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, and `$$` for a literal `$`.
 * Defaults may themselves hold variables (`${A:-${B}}`).
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  value: string;
  /** Variables referenced (whether set or not). */
  vars: string[];
  /** Messages for `${VAR:?error}` whose variable is missing, and for malformed references. */
  errors: string[];
  /** Variables used without a default that are not set (Compose substitutes ""). */
  unset: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(text: string, env: Env): Interpolated {
  const out: Interpolated = { value: '', vars: [], errors: [], unset: [] };
  out.value = expand(text, env, out);
  out.vars = [...new Set(out.vars)];
  out.unset = [...new Set(out.unset)];
  return out;
}

/** True when `text` holds anything interpolation would change. */
export function hasReferences(text: string): boolean {
  return text.includes('$');
}

function expand(text: string, env: Env, out: Interpolated): string {
  let result = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      result += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      result += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = matchingBrace(text, i + 1);
      if (end < 0) {
        out.errors.push(`unclosed variable reference "${text.slice(i)}"`);
        return result + text.slice(i);
      }
      result += braced(text.slice(i + 2, end), env, out);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (m) {
      result += lookup(m[0], env, out, true);
      i += 1 + m[0].length;
      continue;
    }
    // A lone `$` stays as written (Compose does the same).
    result += '$';
    i++;
  }
  return result;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}') {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function lookup(name: string, env: Env, out: Interpolated, recordUnset: boolean): string {
  out.vars.push(name);
  const v = env[name];
  if (v === undefined && recordUnset) out.unset.push(name);
  return v ?? '';
}

function braced(body: string, env: Env, out: Interpolated): string {
  const m = NAME.exec(body);
  if (!m) {
    out.errors.push(`invalid variable reference "\${${body}}"`);
    return '';
  }
  const name = m[0];
  const rest = body.slice(name.length);
  if (rest === '') return lookup(name, env, out, true);
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest);
  if (!op) {
    out.errors.push(`invalid variable reference "\${${body}}"`);
    return '';
  }
  const arg = rest.slice(op[0].length);
  const value = env[name];
  out.vars.push(name);
  const emptyCounts = op[0].startsWith(':');
  const missing = value === undefined || (emptyCounts && value === '');
  switch (op[0]) {
    case ':-':
    case '-':
      return missing ? expand(arg, env, out) : value!;
    case ':?':
    case '?':
      if (missing) {
        const why = expand(arg, env, out);
        out.errors.push(`required variable ${name} is not set${why ? `: ${why}` : ''}`);
        return '';
      }
      return value!;
    default:
      // :+ and +: the alternative when set.
      return missing ? '' : expand(arg, env, out);
  }
}
