// The library, compiled once: esbuild bundles src/ with its npm dependencies into
// .stackport/lib/<stamp>/src/: every src/**/*.ts file a script names (scripts/**/*.mjs are scanned
// for `src/....ts`) is an entry point (same path, .js), the code they share goes into chunks (code
// splitting keeps one copy of each module, so `instanceof` still holds across entries).
// Loading a handful of bundled files instead of ~150 modules is most of the start-up saved
// (tsx also transpiled on every start). Each entry script (scripts/*.mjs, scripts/bench/*.mjs) is
// also bundled whole into .stackport/lib/<stamp>/scripts/, for scripts/lib/run.mjs (what make
// runs): no module hooks at all, which on Node 20 cost a worker thread and a round trip per import.
// The stamp names the sources
// it was built from (newest mtime, count, total size), so a changed file means a new directory:
// no process ever sees a half-written build, and concurrent builds of the same sources agree.
//   node scripts/lib/build.mjs          build if stale, print the directory
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SRC = path.join(ROOT, 'src');
export const LIB = path.join(ROOT, '.stackport', 'lib');

/** Every .ts file under src/, with a stamp of their mtimes and sizes (a few ms for ~100 files). */
export function sources() {
  const files = [];
  const scriptFiles = [];
  let newest = 0;
  let size = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) {
        const s = statSync(full);
        files.push(full);
        newest = Math.max(newest, s.mtimeMs);
        size += s.size;
      }
    }
  };
  walk(SRC);
  const scripts = path.join(ROOT, 'scripts');
  const scan = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) scan(full);
      else if (e.name.endsWith('.mjs')) {
        newest = Math.max(newest, statSync(full).mtimeMs);
        if (dir !== path.join(scripts, 'lib') && e.name !== 'test.mjs') scriptFiles.push(full);
      }
    }
  };
  scan(scripts);
  // this file decides how the output looks, and the dependencies are bundled: either changing is a change of the build
  newest = Math.max(newest, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  const lock = path.join(ROOT, 'node_modules', '.package-lock.json');
  if (existsSync(lock)) newest = Math.max(newest, statSync(lock).mtimeMs);
  return { files, scripts: scriptFiles.sort(), stamp: `${Math.floor(newest).toString(36)}-${files.length.toString(36)}-${size.toString(36)}` };
}

const BANNER = "import { createRequire as __stackportRequire } from 'node:module'; const require = __stackportRequire(import.meta.url);";

/** In a bundled script, scripts/lib/load.mjs has nothing left to do. */
const compiledLoader = {
  name: 'compiled-loader',
  setup(b) {
    b.onResolve({ filter: /(^|\/)lib\/load\.mjs$/ }, () => ({ path: 'load.mjs', namespace: 'stackport-compiled' }));
    b.onLoad({ filter: /.*/, namespace: 'stackport-compiled' }, () => ({ contents: "export function register() { return 'compiled'; }", loader: 'js' }));
  },
};

/**
 * The build for the current sources, building it when there is none:
 * { dir, src: <dir>/src (entries for the module hook), scripts: <dir>/scripts (whole scripts) }.
 */
export async function ensureBuilt() {
  const { scripts, stamp } = sources();
  const dir = path.join(LIB, stamp);
  const built = { dir, src: path.join(dir, 'src'), scripts: path.join(dir, 'scripts') };
  if (existsSync(path.join(dir, 'complete'))) {
    markInUse(dir);
    // a newer build may have removed this one between the check and the mark: then build it again
    if (existsSync(path.join(dir, 'complete'))) return built;
  }
  const esbuild = createRequire(import.meta.url)('esbuild');
  // the src/ modules the scripts name are the entries of the library bundle (for the module hook)
  const entries = new Set();
  for (const script of scripts) {
    for (const m of readFileSync(script, 'utf8').matchAll(/\bsrc\/([\w./-]+)\.ts\b/g)) {
      const entry = path.join(SRC, `${m[1]}.ts`);
      if (existsSync(entry)) entries.add(entry);
    }
  }
  const tmp = path.join(LIB, `.tmp-${stamp}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const builds = [];
  builds.push(esbuild.build({
    entryPoints: [...entries].sort(),
    outbase: SRC,
    outdir: path.join(tmp, 'src'),
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // CommonJS dependencies (docker-compose) call require() for Node's own modules
    banner: { js: BANNER },
    logLevel: 'silent',
  }));
  for (const script of scripts) {
    const rel = path.relative(path.join(ROOT, 'scripts'), script).replace(/\.mjs$/, '');
    const name = path.basename(rel);
    builds.push(esbuild.build({
      entryPoints: [{ in: script, out: name }],
      outdir: path.join(tmp, 'scripts', path.dirname(rel)),
      // what a script loads lazily (the schemas, for one) stays out of its start-up
      splitting: true,
      chunkNames: `chunks/${name}-[hash]`,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // the script still sees itself where it lives (its root, its own path in process.argv)
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(script).href) },
      plugins: [compiledLoader],
      banner: { js: BANNER },
      logLevel: 'silent',
    }));
  }
  await Promise.all(builds);
  mkdirSync(path.join(tmp, 'complete'));
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // another process built the same sources first
    if (!existsSync(path.join(dir, 'complete'))) throw e;
  }
  markInUse(dir);
  // older builds are of no use once no running command uses them: a command imports some chunks
  // only when it reaches them (a long `make prepare` did, after a rebuild had removed its build)
  removeUnusedBuilds(LIB, stamp);
  return built;
}

/** Removes every build in libDir but keep, and but those a live process runs from. */
export function removeUnusedBuilds(libDir, keep) {
  for (const old of readdirSync(libDir)) {
    if (old !== keep && !old.startsWith('.tmp-') && !inUse(path.join(libDir, old))) rmSync(path.join(libDir, old), { recursive: true, force: true });
  }
}

/** Builds this process runs from: each keeps one file open (nothing is written: status and --check write nothing). */
const held = new Set();

/** Records that this process runs from the build in dir: an open file of it, until the process ends. */
function markInUse(dir) {
  if (held.has(dir)) return;
  try {
    openSync(path.join(dir, 'complete'), 'r');
    held.add(dir);
  } catch {
    /* removed meanwhile: the caller builds again */
  }
}

/** Whether a live process still runs from the build in dir: one of its open files is in there (/proc/<pid>/fd). */
export function inUse(dir) {
  const prefix = `${path.resolve(dir)}/`;
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return true; // no /proc to look in: keep it, a stale build costs only disk
  }
  for (const pid of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(prefix)) return true;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return false;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const { dir } = await ensureBuilt();
  console.log(`${path.relative(ROOT, dir)} (${Date.now() - t0} ms)`);
}
