/**
 * Checks the Compose file before anything changes: YAML syntax with file:line:col from the
 * yaml package, then Compose's own validation (`config -q`), reduced to one line.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { StackportError } from '../errors.js';
import { probe } from '../exec/run.js';
import type { ComposeCli } from '../engine/compose-cli.js';

export function checkYamlSyntax(file: string, display = file): void {
  if (!existsSync(file)) {
    throw new StackportError(`${display}: no such file`, { hint: 'pass the path of a Compose file with -f', exitCode: 2 });
  }
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') {
    throw new StackportError('the Compose file is empty', { position: { file: display, line: 1, col: 1 }, hint: 'add a `services:` section', exitCode: 2 });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lineCounter.linePos(err.pos[0]);
    const message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new StackportError(`YAML syntax error: ${message}`, {
      position: { file: display, line: pos.line, col: pos.col },
      hint: 'fix the YAML at that position; nothing was changed',
      exitCode: 2,
    });
  }
  const services = (doc.toJS() as { services?: unknown } | null)?.services;
  if (typeof services !== 'object' || services === null) {
    throw new StackportError('no `services:` mapping', { position: { file: display, line: 1, col: 1 }, hint: 'a Compose file needs a services: section', exitCode: 2 });
  }
}

/** Compose's own verdict on the file, with its message as the error. Returns the resolved YAML. */
export async function composeConfig(cli: ComposeCli, file: string | string[], envFile: string, project: string, display = String(file), env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const files = typeof file === 'string' ? [file] : file;
  const r = await probe([...cli.argv, ...files.flatMap((f) => ['-f', f]), '-p', project, '--env-file', envFile, 'config'], { cwd: path.dirname(files[0]!), env });
  if (r.exitCode === 0) return r.stdout;
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.replace(/^(ERROR|error)[: ]+/, '').trim())
    .filter((l) => l && !/^You might be seeing this error|^For more on the Compose file format|^The Compose file '.*' is invalid because:$/.test(l));
  const position = /line (\d+)/.exec(lines[0] ?? '');
  throw new StackportError(`Compose rejects the file: ${lines.slice(0, 2).join('; ') || `exit ${r.exitCode}`}`, {
    position: { file: display, line: position ? Number(position[1]) : undefined },
    hint: 'fix the Compose file; nothing was changed',
    exitCode: 2,
  });
}
