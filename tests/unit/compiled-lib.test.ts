import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const build = path.join(root, 'scripts', 'lib', 'build.mjs');

/** removeUnusedBuilds(libDir, keep) in a node process of its own (build.mjs is an ES module). */
function removeUnused(libDir: string, keep: string): void {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { removeUnusedBuilds } from ${JSON.stringify(build)}; removeUnusedBuilds(${JSON.stringify(libDir)}, ${JSON.stringify(keep)});`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

test('a newer build removes the older ones, but not one a running command still imports from', async () => {
  const lib = mkdtempSync(path.join(tmpdir(), 'stackport-lib-'));
  const user = spawn('sleep', ['30']);
  try {
    const make = (stamp: string, pids: number[]) => {
      mkdirSync(path.join(lib, stamp, 'users'), { recursive: true });
      writeFileSync(path.join(lib, stamp, 'complete'), '');
      for (const pid of pids) writeFileSync(path.join(lib, stamp, 'users', String(pid)), '');
    };
    make('old-in-use', [user.pid!]);
    make('old-unused', [2 ** 22 + 17]); // above pid_max's default: never a live process
    make('old-never-marked', []);
    make('current', []);
    removeUnused(lib, 'current');
    expect(existsSync(path.join(lib, 'current'))).toBe(true);
    expect(existsSync(path.join(lib, 'old-in-use'))).toBe(true);
    expect(existsSync(path.join(lib, 'old-unused'))).toBe(false);
    expect(existsSync(path.join(lib, 'old-never-marked'))).toBe(false);
    // reaped (a killed child stays a zombie, which kill -0 still finds, until node collects it)
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
