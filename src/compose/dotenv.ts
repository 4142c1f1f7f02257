/**
 * `.env` and `env_file` parsing the way Compose does it: `KEY=value`, optional `export `,
 * comments, single quotes (literal), double quotes (with \n escapes), inline ` #` comments
 * on unquoted values, and `KEY` alone (taken from the environment when set).
 */
import type { SourcePos } from '../model/app.js';

export interface DotenvEntry {
  name: string;
  /** undefined for a bare `KEY` line that names no value. */
  value?: string;
  pos: SourcePos;
}

export interface DotenvResult {
  entries: DotenvEntry[];
  problems: { message: string; pos: SourcePos }[];
}

export function parseDotenv(text: string, file: string): DotenvResult {
  const entries: DotenvEntry[] = [];
  const problems: DotenvResult['problems'] = [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    const indent = line.length - line.trimStart().length;
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    const pos: SourcePos = { file, line: n + 1, col: indent + 1 };
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      problems.push({ message: `invalid variable name "${name}" in env file`, pos });
      continue;
    }
    if (eq < 0) {
      entries.push({ name, pos });
      continue;
    }
    let raw = line.slice(eq + 1).trimStart();
    let value: string;
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      if (end < 0) {
        problems.push({ message: `unterminated single quote in the value of ${name}`, pos });
        continue;
      }
      value = raw.slice(1, end);
    } else if (raw.startsWith('"')) {
      // A double-quoted value may span lines.
      let body = raw.slice(1);
      let end = closingQuote(body);
      while (end < 0 && n + 1 < lines.length) {
        n++;
        body += `\n${lines[n]}`;
        end = closingQuote(body);
      }
      if (end < 0) {
        problems.push({ message: `unterminated double quote in the value of ${name}`, pos });
        continue;
      }
      value = body
        .slice(0, end)
        .replace(/\\(["\\nrt$])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
    } else {
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash);
      value = raw.trimEnd();
    }
    entries.push({ name, value, pos });
  }
  return { entries, problems };
}

function closingQuote(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === '"') return i;
  }
  return -1;
}
