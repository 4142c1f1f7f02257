/**
 * Parity with Compose v2: the locally built `docker compose` (v2.35.0, `config --format json`,
 * no engine needed) and stackport's loader run on the same inputs and must agree: the same
 * projects accepted and rejected, and for accepted ones the same services, images, resolved
 * environment, ports, volumes, depends_on and healthchecks (tests/parity/shape.ts).
 *
 * Inputs:
 *  - tests/corpus/<name>/: projects both accept (each one also renders; other tests use them),
 *    with an optional args.json ({files, envFiles, profiles, projectDirectory, projectName, env});
 *  - tests/corpus-rejected/<name>/: projects stackport rejects; expect.json says what Compose
 *    does ({"compose": "reject"} or {"compose": "accept", "reason": "..."} for a documented
 *    difference, docs/generator.md "Differences from Compose");
 *  - generated cases (tests/parity/generator.ts): STACKPORT_PARITY_RUNS (default 300) from
 *    STACKPORT_PARITY_SEED (default 20261201, printed).
 *  - STACKPORT_PARITY_DIRS=dir[:dir...]: every directory below holding a compose file is run
 *    as well and the figures printed (for real public projects; nothing is asserted).
 * Compose runs 3 at a time, each killed after 20 s (`timeout -k`).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORPUS, CORPUS_REJECTED, corpusProjects, type CorpusProject } from './corpus.js';
import { sampleCases, type GeneratedCase } from './generator.js';
import { composeBinary, pool, runCompose, runStackport, type Outcome } from './shape.js';

const CONCURRENCY = 3;
const SEED = Number(process.env.STACKPORT_PARITY_SEED ?? 20261201);
const RUNS = Number(process.env.STACKPORT_PARITY_RUNS ?? 300);
const compose = composeBinary();
jest.setTimeout(300_000);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stackport-parity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A project of the corpus, a generated case or a real project: a directory and its args. */
type Case = CorpusProject;

/** A readable account of where two outcomes differ (empty when they agree). */
function difference(compose: Outcome, ours: Outcome): string {
  if (compose.ok !== ours.ok) {
    return compose.ok ? `Compose accepts, stackport rejects: ${(ours as { message: string }).message}` : `Compose rejects (${(compose as { message: string }).message}), stackport accepts`;
  }
  if (!compose.ok || !ours.ok) return '';
  const lines: string[] = [];
  if (compose.name !== ours.name) lines.push(`project name: compose ${compose.name}, stackport ${ours.name}`);
  const names = new Set([...Object.keys(compose.shape), ...Object.keys(ours.shape)]);
  for (const s of names) {
    const a = compose.shape[s];
    const b = ours.shape[s];
    if (!a || !b) {
      lines.push(`service ${s}: only in ${a ? 'Compose' : 'stackport'}`);
      continue;
    }
    for (const k of Object.keys(a) as (keyof typeof a)[]) {
      const x = JSON.stringify(a[k]);
      const y = JSON.stringify(b[k]);
      if (x !== y) lines.push(`services.${s}.${k}: compose ${x}, stackport ${y}`);
    }
  }
  return lines.join('\n');
}

async function compare(cases: Case[]): Promise<{ c: Case; compose: Outcome; ours: Outcome }[]> {
  return pool(cases, CONCURRENCY, async (c) => {
    const composeOutcome = await runCompose(compose, c.dir, c.args);
    let ours: Outcome;
    try {
      ours = runStackport(c.dir, c.args);
    } catch (e) {
      ours = { ok: false, message: `CRASH ${e instanceof Error ? e.stack : String(e)}` };
    }
    return { c, compose: composeOutcome, ours };
  });
}

test('the corpus loads as Compose loads it', async () => {
  const started = Date.now();
  const cases = corpusProjects(CORPUS);
  expect(cases.length).toBeGreaterThanOrEqual(50);
  const results = await compare(cases);
  const failures = results.map((r) => ({ name: r.c.name, why: r.compose.ok && r.ours.ok ? difference(r.compose, r.ours) : `both must accept a corpus project; ${difference(r.compose, r.ours) || `both reject: ${(r.ours as { message: string }).message}`}` })).filter((f) => f.why);
  console.log(`parity corpus: ${cases.length} projects, ${cases.length - failures.length} agree, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(failures.map((f) => `${f.name}: ${f.why}`)).toEqual([]);
});

test('rejected projects: stackport refuses them, Compose does what expect.json says', async () => {
  const started = Date.now();
  const cases = corpusProjects(CORPUS_REJECTED);
  const results = await compare(cases);
  const failures: string[] = [];
  for (const r of results) {
    const expected = JSON.parse(readFileSync(path.join(r.c.dir, 'expect.json'), 'utf8')) as { compose: 'accept' | 'reject'; reason?: string };
    if (r.ours.ok) failures.push(`${r.c.name}: stackport accepts it`);
    else if (r.ours.message.startsWith('CRASH')) failures.push(`${r.c.name}: ${r.ours.message}`);
    if ((expected.compose === 'accept') !== r.compose.ok) failures.push(`${r.c.name}: Compose ${r.compose.ok ? 'accepts' : `rejects (${(r.compose as { message: string }).message})`}, expect.json says ${expected.compose}`);
    if (expected.compose === 'accept' && !expected.reason) failures.push(`${r.c.name}: a difference from Compose needs its reason in expect.json`);
  }
  console.log(`parity rejected corpus: ${cases.length} projects, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(failures).toEqual([]);
});

function writeCase(dir: string, g: GeneratedCase): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'compose.yaml'), g.compose);
  if (g.dotenv !== undefined) writeFileSync(path.join(dir, '.env'), g.dotenv);
  if (g.override !== undefined) writeFileSync(path.join(dir, 'compose.override.yaml'), g.override);
}

test('generated projects: Compose and stackport agree', async () => {
  const started = Date.now();
  console.log(`parity generator: seed ${SEED} (STACKPORT_PARITY_SEED), ${RUNS} cases (STACKPORT_PARITY_RUNS)`);
  const generated = sampleCases(SEED, RUNS);
  const cases = generated.map((g, i) => {
    const dir = path.join(tmp, `gen-${String(i).padStart(4, '0')}`);
    writeCase(dir, g);
    return { name: `case ${i}`, dir, args: g.args };
  });
  const results = await compare(cases);
  const failures = results.map((r, i) => ({ i, why: difference(r.compose, r.ours) })).filter((f) => f.why);
  const accepted = results.filter((r) => r.compose.ok).length;
  console.log(`parity generator: ${cases.length} cases (${accepted} valid, ${cases.length - accepted} invalid for Compose), ${cases.length - failures.length} agree, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (process.env.STACKPORT_PARITY_BRIEF) console.log(failures.map((f) => `case ${f.i}: ${f.why.split('\n')[0]}`).join('\n'));
  const shown = failures.slice(0, 5).map((f) => {
    const g = generated[f.i]!;
    return `case ${f.i} (seed ${SEED}): ${f.why}\n--- compose.yaml\n${g.compose}${g.override ? `--- compose.override.yaml\n${g.override}` : ''}${g.dotenv !== undefined ? `--- .env\n${g.dotenv}` : ''}--- args ${JSON.stringify(g.args)}`;
  });
  expect(shown).toEqual([]);
});

const extraDirs = (process.env.STACKPORT_PARITY_DIRS ?? '').split(':').filter(Boolean);
(extraDirs.length ? test : test.skip)('real projects from STACKPORT_PARITY_DIRS (figures only)', async () => {
  const names = new Set(['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']);
  const found: Case[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4) return;
    const entries = readdirSync(d, { withFileTypes: true });
    const file = entries.find((e) => e.isFile() && names.has(e.name));
    if (file) found.push({ name: path.relative('/', d), dir: d, args: {} });
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(path.join(d, e.name), depth + 1);
  };
  for (const d of extraDirs) walk(d, 0);
  const results = await compare(found);
  const tally = { both_accept_agree: 0, both_accept_differ: 0, both_reject: 0, only_compose_accepts: 0, only_stackport_accepts: 0 };
  const notes: string[] = [];
  for (const r of results) {
    const d = difference(r.compose, r.ours);
    if (r.compose.ok && r.ours.ok) tally[d ? 'both_accept_differ' : 'both_accept_agree']++;
    else if (!r.compose.ok && !r.ours.ok) tally.both_reject++;
    else tally[r.compose.ok ? 'only_compose_accepts' : 'only_stackport_accepts']++;
    if (d) notes.push(`${r.c.name}: ${d.split('\n').slice(0, 3).join(' | ')}`);
  }
  console.log(`real projects: ${found.length}\n${JSON.stringify(tally, null, 1)}\n${notes.join('\n')}`);
});
