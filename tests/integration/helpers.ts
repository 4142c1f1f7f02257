/** Shared by the integration tests: run a stackport script as a user would, in a sandboxed project. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'zx', path.join(root, 'scripts', script), ...args], {
      cwd: root,
      env: { ...process.env, STACKPORT_TIMINGS: '0', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const tmpDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `stackport-${prefix}-`));

/** The error block a script printed: lines from `error:` on. */
export function errorLines(stderr: string): string[] {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  return at < 0 ? [] : lines.slice(at).filter(Boolean);
}
