#!/usr/bin/env node
// make test: typecheck, then jest (every project, one file at a time: integration and e2e tests
// share one engine and one cluster), with jest's JSON results in .stackport/test-results/.
// Prints the closing line "N passed, N failed" summed over every results file of this round
// (CI reads it). Usage: node scripts/test.mjs [--run NAME] [--projects P...] [-- jest args]
//   --run NAME  a further run added to the round (its own results file; the typecheck and the
//               wipe of earlier results happen only for the main run)
import { spawnSync } from 'node:child_process';
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

const outputFile = path.join(outDir, `jest-${run}.json`);
const jestArgs = ['--no-install', 'jest', '--runInBand', '--json', `--outputFile=${outputFile}`];
if (projects.length) jestArgs.push('--selectProjects', ...projects);
if (jestExtra.length) jestArgs.push('--', ...jestExtra);
const jest = spawnSync('npx', jestArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
if (!existsSync(outputFile)) writeFileSync(path.join(outDir, `missing-${run}.txt`), 'jest wrote no results\n');

// The round's total: every results file (main run and any --run added to it).
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of readdirSync(outDir)) {
  const full = path.join(outDir, f);
  if (f === 'typecheck.txt') readFileSync(full, 'utf8').startsWith('ok') ? passed++ : failed++;
  else if (f.startsWith('missing-')) failed++;
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
process.exit(jest.status !== 0 || !typecheckOk || !existsSync(outputFile) ? 1 : 0);
