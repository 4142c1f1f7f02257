#!/usr/bin/env -S npx zx
// Benchmark: synthetic Compose files of 10, 100, 1,000 and 5,000 services through the whole
// generator (load + validate input + transform + schema-validate every object + render + write).
// Prints, per size, the whole command's wall time (`node scripts/lib/run.mjs scripts/generate.mjs -f <file>
// -o <out>`, as make runs it, start-up included) and peak memory, the generation's own time inside the process, the
// growth per 10x, and kompose side by side when a kompose binary is found (--kompose <path>, $KOMPOSE,
// or `kompose` on PATH). First the start-up of commands that do nothing heavy: `generate --help`,
// `status --help`, `status` (target: 300 ms), compiled (scripts/lib/load.mjs) and through tsx.
//   node scripts/bench/generate.mjs [--sizes 10,100,1000] [--kompose /path/to/kompose] [--runs 3]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One synthetic service; every shape the generator handles shows up at a fixed rate. */
function service(i, n) {
  const lines = [`  svc${i}:`, `    image: example/app${i % 7}:1.${i % 5}`];
  if (i % 3 === 0) lines.push('    ports:', `      - "${10000 + i}:8080"`);
  else lines.push('    expose:', '      - "8080"');
  lines.push('    environment:', `      SERVICE_INDEX: "${i}"`, '      LOG_LEVEL: info', `      DB_PASSWORD: \${DB_PASSWORD:-dev}`);
  lines.push('    healthcheck:', '      test: ["CMD", "wget", "-qO-", "http://localhost:8080/health"]', '      interval: 10s', '      retries: 3', '      start_period: 20s');
  if (i > 0) lines.push('    depends_on:', `      svc${i - 1}:`, '        condition: service_healthy');
  if (i % 10 === 0) lines.push('    volumes:', `      - data${i}:/var/lib/data`);
  if (i % 4 === 0) lines.push('    deploy:', '      replicas: 2', '      resources:', '        limits: {cpus: "0.5", memory: 256M}');
  return lines.join('\n');
}

export function syntheticCompose(n) {
  const volumes = [];
  for (let i = 0; i < n; i += 10) volumes.push(`  data${i}:`);
  return ['name: bench', 'services:', ...Array.from({ length: n }, (_x, i) => service(i, n)), 'volumes:', ...volumes, ''].join('\n');
}

/** In the child: one generation, timed inside the process (no start-up). */
async function child(file, out) {
  const { register } = await import('../lib/load.mjs');
  register();
  const { schemaValidator } = await import(pathToFileURL(path.join(ROOT, 'src/k8s/validate.ts')).href);
  const { generate } = await import(pathToFileURL(path.join(ROOT, 'src/k8s/generate.ts')).href);
  const { DEFAULT_OPTIONS } = await import(pathToFileURL(path.join(ROOT, 'src/k8s/transform.ts')).href);
  const validate = await schemaValidator();
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const r = generate({ load: { file, env: {}, displayBase: path.dirname(file) }, transform: { ...DEFAULT_OPTIONS, displayBase: path.dirname(file) }, out, target: 'kind', validate });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, objects: r.objectCount, maxRssKb: process.resourceUsage().maxRSS }));
}

function timed(argv, env = process.env) {
  if (!existsSync('/usr/bin/time')) {
    console.error('bench-generate needs GNU time for the peak memory: apt-get install time');
    process.exit(2);
  }
  // GNU time reports the peak resident set of the command (the whole process, start-up included).
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', ...argv], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [user, sys, kb] = last.split(' ').map(Number);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, wallMs, cpuMs: (user + sys) * 1000, maxRssKb: kb };
}

/** Best of `runs` of a command: wall and CPU (each its own minimum). */
function startup(argv, runs, env = process.env, mayFail = false) {
  let wall = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < runs; i++) {
    const r = timed(argv, env);
    if (r.status !== 0 && !mayFail) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
    wall = Math.min(wall, r.wallMs);
    cpu = Math.min(cpu, r.cpuMs);
  }
  return { wall, cpu };
}

const KUBECTL = ['/root/.cache/stackport/kubeadm-v1.34.4/bin/kubectl', '/usr/bin/kubectl'].find((k) => existsSync(k));

function startupTable(runs) {
  const node = process.execPath;
  const gen = path.join(ROOT, 'scripts/generate.mjs');
  const status = path.join(ROOT, 'scripts/status.mjs');
  const k8s = path.join(ROOT, 'scripts/k8s.mjs');
  const run = path.join(ROOT, 'scripts/lib/run.mjs');
  const rows = [
    ['node -e 0 (the floor)', [node, '-e', '0'], {}],
    ...(KUBECTL ? [['kubectl version --client (reference)', [KUBECTL, 'version', '--client'], {}]] : []),
    ['generate --help (as make runs it)', [node, run, gen, '--help'], {}],
    ['k8s --help (as make runs it)', [node, run, k8s, '--help'], {}],
    ['status (as make runs it)', [node, run, status], {}],
    ['generate --help, node scripts/generate.mjs', [node, gen, '--help'], {}],
    ['status, node scripts/status.mjs', [node, status], {}],
    ['generate --help, tsx (STACKPORT_TSX=1)', [node, gen, '--help'], { STACKPORT_TSX: '1' }],
    ['status, tsx (STACKPORT_TSX=1)', [node, status], { STACKPORT_TSX: '1' }],
  ];
  // the first run after a source change builds the library: not what is measured
  timed([node, run, gen, '--help']);
  const lines = [`start-up, best of ${runs} (wall | CPU; target: every stackport command within 300 ms wall):`];
  for (const [name, argv, env] of rows) {
    // status answers 1 when the stack is not running: still a full command
    const r = startup(argv, runs, { ...process.env, ...env }, name.startsWith('status'));
    const judged = name.includes('as make runs it');
    lines.push(`  ${name.padEnd(44)} ${fmtMs(r.wall).padStart(7)} | ${fmtMs(r.cpu).padStart(7)}${judged ? (r.wall <= 300 ? '  ok' : '  over 300 ms') : ''}`);
  }
  return lines;
}

function findKompose(args) {
  const i = args.indexOf('--kompose');
  const candidates = [i >= 0 ? args[i + 1] : undefined, process.env.KOMPOSE, path.join(os.homedir(), '.cache/stackport/kompose-v1.38.0/kompose'), '/tmp/kompose-build/kompose'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const w = spawnSync('sh', ['-c', 'command -v kompose'], { encoding: 'utf8' });
  return w.status === 0 ? w.stdout.trim() : undefined;
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const fmtMb = (kb) => `${Math.round(kb / 1024)} MiB`;

async function main() {
  const args = process.argv.slice(2);
  const at = (flag, d) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : d);
  const sizes = at('--sizes', '10,100,1000').split(',').map(Number);
  const runs = Number(at('--runs', '3'));
  const kompose = findKompose(args);
  console.log(startupTable(Math.max(5, runs)).join('\n'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-bench-'));
  const rows = [];
  try {
    for (const n of sizes) {
      const file = path.join(dir, `compose-${n}.yaml`);
      writeFileSync(file, syntheticCompose(n));
      let best;
      for (let r = 0; r < runs; r++) {
        const out = path.join(dir, `out-${n}-${r}`);
        const inside = timed([process.execPath, fileURLToPath(import.meta.url), '--child', file, out]);
        if (inside.status !== 0) throw new Error(`generator failed on ${n} services:\n${inside.stderr}`);
        rmSync(out, { recursive: true, force: true });
        // the command as a user runs it: start-up, load, validate, transform, render, write
        const res = timed([process.execPath, path.join(ROOT, 'scripts/lib/run.mjs'), path.join(ROOT, 'scripts/generate.mjs'), '-f', file, '-o', out, '-q']);
        if (res.status !== 0) throw new Error(`generate failed on ${n} services:\n${res.stderr}`);
        const inner = JSON.parse(inside.stdout);
        const row = { n, ms: inner.ms, cpuMs: res.cpuMs, wallMs: res.wallMs, maxRssKb: res.maxRssKb, objects: inner.objects };
        if (!best || row.wallMs < best.wallMs) best = row;
        rmSync(out, { recursive: true, force: true });
      }
      if (kompose) {
        let kbest;
        // kompose is slow on big files (minutes at 5,000 services): one run there is enough.
        for (let r = 0; r < (n >= 1000 ? 1 : runs); r++) {
          const out = path.join(dir, `kompose-${n}-${r}`);
          mkdirSync(out);
          const res = timed([kompose, 'convert', '-f', file, '-o', out], { ...process.env, DB_PASSWORD: 'x' });
          if (res.status !== 0) {
            kbest = { error: res.stderr.trim().split('\n').slice(-1)[0] };
            break;
          }
          if (!kbest || res.wallMs < kbest.wallMs) kbest = res;
          rmSync(out, { recursive: true, force: true });
        }
        best.kompose = kbest;
      }
      rows.push(best);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = [];
  lines.push(`stackport generate, best of ${runs}: wall, CPU and peak RSS of the whole command as make runs it (node scripts/lib/run.mjs scripts/generate.mjs, start-up included); "inside": the generation alone, in the process; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
  lines.push(['services', 'objects', 'inside', 'cpu', 'wall', 'peak RSS', 'growth (inside vs 10x fewer)', ...(kompose ? ['kompose wall', 'kompose RSS', 'ratio (kompose/stackport wall)'] : [])].join(' | '));
  rows.forEach((r, i) => {
    const prev = rows[i - 1];
    const growth = prev && r.n / prev.n === 10 ? `${(r.ms / prev.ms).toFixed(1)}x` : prev ? `${(r.ms / prev.ms).toFixed(1)}x for ${r.n / prev.n}x` : '-';
    const k = r.kompose;
    const kcols = kompose ? (k?.error ? [`failed: ${k.error}`, '', ''] : [fmtMs(k.wallMs), fmtMb(k.maxRssKb), `${(k.wallMs / r.wallMs).toFixed(2)}`]) : [];
    lines.push([r.n, r.objects, fmtMs(r.ms), fmtMs(r.cpuMs), fmtMs(r.wallMs), fmtMb(r.maxRssKb), growth, ...kcols].join(' | '));
  });
  const thousand = rows.find((r) => r.n === 1000);
  if (thousand) lines.push(`1,000 services: ${fmtMs(thousand.wallMs)} wall for the whole command, ${fmtMs(thousand.ms)} inside (target < 1 s wall: ${thousand.wallMs < 1000 ? 'met' : 'NOT met'})`);
  if (kompose) {
    const behind = rows.filter((r) => r.kompose && !r.kompose.error && r.kompose.wallMs <= r.wallMs).map((r) => r.n);
    lines.push(behind.length ? `behind kompose at ${behind.join(', ')} services` : 'ahead of kompose at every size');
  }
  if (!kompose) lines.push('kompose: not found (pass --kompose <path> or set KOMPOSE)');
  else lines.push(`kompose: ${kompose}`);
  console.log(lines.join('\n'));
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else if (process.argv.some((a) => a.endsWith('bench/generate.mjs'))) await main();
