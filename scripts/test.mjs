#!/usr/bin/env node
// make test: typecheck, then jest (every project, one at a time: integration and e2e tests
// share one engine and one cluster), with jest's JSON results written to .stackport/test-results/.
// Prints the closing line "N passed, N failed" from those results (CI reads it).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const projectsAt = args.indexOf('--projects');
const projects = projectsAt >= 0 ? args.slice(projectsAt + 1).filter((a) => !a.startsWith('-')) : [];
const extra = projectsAt >= 0 ? args.slice(0, projectsAt) : args;
const outDir = path.join(root, '.stackport', 'test-results');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

let passed = 0;
let failed = 0;
let skipped = 0;

const tc = spawnSync('npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (tc.status === 0) passed += 1;
else {
  failed += 1;
  console.error('typecheck failed (counted as one failed test)');
}

const outputFile = path.join(outDir, 'jest.json');
const jestArgs = ['--no-install', 'jest', '--runInBand', '--json', `--outputFile=${outputFile}`, ...extra];
if (projects.length) jestArgs.push('--selectProjects', ...projects);
const jest = spawnSync('npx', jestArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });

if (existsSync(outputFile)) {
  const r = JSON.parse(readFileSync(outputFile, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // A suite that failed to run (syntax error, failing beforeAll) has no failed test: count it.
  failed += r.numRuntimeErrorTestSuites ?? 0;
} else {
  failed += 1;
  console.error('jest wrote no results (counted as one failed test)');
}

const summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
writeFileSync(path.join(outDir, 'summary.txt'), `${summary}\n`);
console.log(summary);
process.exit(failed > 0 || jest.status !== 0 || tc.status !== 0 ? 1 : 0);
