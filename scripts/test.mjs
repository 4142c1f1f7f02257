#!/usr/bin/env node
// make test: typecheck, then jest (every project, one file at a time: integration and e2e tests
// share one engine and one cluster), with jest's JSON results in .stackport/test-results/.
// Before jest, a "prepare" phase (scripts/prepare.mjs) does the cold builds the integration and
// e2e tests need, with progress and a budget per step; see src/prepare/prepare.ts.
// Prints the closing line "N passed, N failed" summed over every results file of this round
// (CI reads it). Usage: node scripts/test.mjs [--run NAME] [--projects P...] [-- jest args]
//   --run NAME  a further run added to the round (its own results file; the typecheck and the
//               wipe of earlier results happen only for the main run)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const jestExtra = dash >= 0 ? argv.slice(dash + 1) : [];
const runAt = own.indexOf('--run');
const run = runAt >= 0 ? own[runAt + 1] : 'main';
const projectsAt = own.indexOf('--projects');
const projects = projectsAt >= 0 ? own.slice(projectsAt + 1).filter((a, i, all) => !a.startsWith('-') && all[i - 1] !== '--run') : [];
const outDir = path.join(root, '.stackport', 'test-results');
if (run === 'main') rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

let typecheckOk = true;
if (run === 'main') {
  const tc = spawnSync('npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  typecheckOk = tc.status === 0;
  writeFileSync(path.join(outDir, 'typecheck.txt'), typecheckOk ? 'ok\n' : 'failed\n');
  if (!typecheckOk) console.error('typecheck failed (counted as one failed test)');
}

// prepare: the cold builds (engine, Compose, images, cluster binaries, node image) as a phase of
// their own, each step timed and budgeted (src/prepare/prepare.ts), so no test hook's timeout ever
// covers one. It runs in its own process group: a step over budget ends it, and whatever it
// still had running (a go build) is ended with it, by that group's id. STACKPORT_PREPARE=0 skips it.
let selected = projects;
const needsPrepare = (projects.length === 0 || projects.some((p) => p === 'integration' || p === 'e2e')) && process.env.STACKPORT_PREPARE !== '0';
if (needsPrepare) {
  const started = Date.now();
  // as make runs every script: its compiled bundle through scripts/lib/run.mjs (no zx CLI start-up)
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'lib', 'run.mjs'), path.join(root, 'scripts', 'prepare.mjs'), ...(projects.length ? ['--projects', ...projects] : [])], {
    cwd: root,
    stdio: 'inherit',
    detached: true,
  });
  const code = await new Promise((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (c) => resolve(c ?? 1));
  });
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* the group is empty: nothing left running */
  }
  const took = `${Math.round((Date.now() - started) / 1000)} s`;
  writeFileSync(path.join(outDir, `prepare-${run}.txt`), code === 0 ? `ok ${took}\n` : `failed ${took}\n`);
  if (code !== 0) {
    // the tests that need the builds would only time out in their hooks: run the others
    selected = (projects.length ? projects : ['unit', 'golden', 'integration', 'e2e']).filter((p) => p === 'unit' || p === 'golden');
    console.error(`prepare failed after ${took} (counted as one failed test): running only ${selected.join(', ') || 'no'} tests`);
  } else {
    console.error(`prepare: ready in ${took}`);
  }
}

const outputFile = path.join(outDir, `jest-${run}.json`);
const jestArgs = ['--no-install', 'jest', '--runInBand', '--json', `--outputFile=${outputFile}`];
if (selected.length) jestArgs.push('--selectProjects', ...selected);
const prepareFailed = selected !== projects && selected.length === 0;
if (jestExtra.length) jestArgs.push('--', ...jestExtra);
const jest = prepareFailed ? { status: 1 } : spawnSync('npx', jestArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
if (!existsSync(outputFile) && !prepareFailed) writeFileSync(path.join(outDir, `missing-${run}.txt`), 'jest wrote no results\n');

// The round's total: every results file (main run and any --run added to it).
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of readdirSync(outDir)) {
  const full = path.join(outDir, f);
  if (f === 'typecheck.txt') readFileSync(full, 'utf8').startsWith('ok') ? passed++ : failed++;
  else if (f.startsWith('missing-')) failed++;
  else if (f.startsWith('prepare-') && readFileSync(full, 'utf8').startsWith('failed')) failed++;
  else if (f.startsWith('jest-') && f.endsWith('.json')) {
    const r = JSON.parse(readFileSync(full, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
}
const summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
writeFileSync(path.join(outDir, 'summary.txt'), `${summary}\n`);
console.log(summary);
process.exit(jest.status !== 0 || !typecheckOk || !existsSync(outputFile) || selected !== projects ? 1 : 0);
