import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../../src/exec/wait.js';

const root = path.resolve(__dirname, '..', '..');
const build = path.join(root, 'scripts', 'lib', 'build.mjs');

/** removeUnusedBuilds(libDir, keep) in a node process of its own (build.mjs is an ES module). */
function removeUnused(libDir: string, keep: string): void {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { removeUnusedBuilds } from ${JSON.stringify(build)}; removeUnusedBuilds(${JSON.stringify(libDir)}, ${JSON.stringify(keep)});`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

test('a newer build removes the older ones, but not one a running command still has a file of open', async () => {
  const lib = mkdtempSync(path.join(tmpdir(), 'stackport-lib-'));
  for (const stamp of ['old-in-use', 'old-unused', 'current']) {
    mkdirSync(path.join(lib, stamp, 'scripts'), { recursive: true });
    writeFileSync(path.join(lib, stamp, 'complete'), '');
  }
  // a command still running from old-in-use: it holds that build's file open, as markInUse does
  const user = spawn('sh', ['-c', 'exec sleep 30 < "$0"', path.join(lib, 'old-in-use', 'complete')]);
  try {
    const held = path.join(lib, 'old-in-use', 'complete');
    await waitFor('the command to hold its build file open', async () => readdirSync(`/proc/${user.pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${user.pid}/fd/${fd}`) === held;
      } catch {
        return false;
      }
    }), { timeoutMs: 10_000, intervalMs: 20 });
    removeUnused(lib, 'current');
    expect(existsSync(path.join(lib, 'current'))).toBe(true);
    expect(existsSync(path.join(lib, 'old-in-use'))).toBe(true);
    expect(existsSync(path.join(lib, 'old-unused'))).toBe(false);
    // reaped first (a killed child is a zombie, its files still listed, until node collects it)
    await new Promise((resolve) => {
      user.once('exit', resolve);
      user.kill('SIGKILL');
    });
    removeUnused(lib, 'current');
    expect(existsSync(path.join(lib, 'old-in-use'))).toBe(false);
  } finally {
    user.kill('SIGKILL');
    rmSync(lib, { recursive: true, force: true });
  }
});
