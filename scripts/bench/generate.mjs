#!/usr/bin/env -S npx zx
// Benchmark: synthetic Compose files of 10, 100, 1,000 and 5,000 services through the whole
// generator (load + validate input + transform + schema-validate every object + render + write).
// Prints time and peak memory per size, the growth factor per 10x, and kompose side by side when
// a kompose binary is found (--kompose <path>, $KOMPOSE, or `kompose` on PATH).
//   npx zx scripts/bench/generate.mjs [--sizes 10,100,1000,5000] [--kompose /path/to/kompose] [--runs 3]
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

/** In the child: one generation, timed inside the process (no tsx start-up). */
async function child(file, out) {
  const { register } = await import('tsx/esm/api');
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
  // GNU time reports the peak resident set of the command (the whole process, start-up included).
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, wallMs: secs * 1000, maxRssKb: kb };
}

function findKompose(args) {
  const i = args.indexOf('--kompose');
  const candidates = [i >= 0 ? args[i + 1] : undefined, process.env.KOMPOSE, '/tmp/kompose-build/kompose'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const w = spawnSync('sh', ['-c', 'command -v kompose'], { encoding: 'utf8' });
  return w.status === 0 ? w.stdout.trim() : undefined;
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const fmtMb = (kb) => `${Math.round(kb / 1024)} MiB`;

async function main() {
  const args = process.argv.slice(2);
  const at = (flag, d) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : d);
  const sizes = at('--sizes', '10,100,1000,5000').split(',').map(Number);
  const runs = Number(at('--runs', '3'));
  const kompose = findKompose(args);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-bench-'));
  const rows = [];
  try {
    for (const n of sizes) {
      const file = path.join(dir, `compose-${n}.yaml`);
      writeFileSync(file, syntheticCompose(n));
      let best;
      for (let r = 0; r < runs; r++) {
        const out = path.join(dir, `out-${n}-${r}`);
        const res = timed([process.execPath, fileURLToPath(import.meta.url), '--child', file, out]);
        if (res.status !== 0) throw new Error(`generator failed on ${n} services:\n${res.stderr}`);
        const inner = JSON.parse(res.stdout);
        const row = { n, ms: inner.ms, cpuMs: inner.cpuMs, wallMs: res.wallMs, maxRssKb: res.maxRssKb, objects: inner.objects };
        if (!best || row.ms < best.ms) best = row;
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
  lines.push(`stackport generate, best of ${runs}: time and CPU of the generation inside the process; wall and peak RSS of the whole command (Node + tsx start-up included); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
  lines.push(['services', 'objects', 'time', 'cpu', 'wall', 'peak RSS', 'growth (time vs 10x fewer)', ...(kompose ? ['kompose wall', 'kompose RSS', 'ratio (kompose/stackport wall)'] : [])].join(' | '));
  rows.forEach((r, i) => {
    const prev = rows[i - 1];
    const growth = prev && r.n / prev.n === 10 ? `${(r.ms / prev.ms).toFixed(1)}x` : prev ? `${(r.ms / prev.ms).toFixed(1)}x for ${r.n / prev.n}x` : '-';
    const k = r.kompose;
    const kcols = kompose ? (k?.error ? [`failed: ${k.error}`, '', ''] : [fmtMs(k.wallMs), fmtMb(k.maxRssKb), `${(k.wallMs / r.wallMs).toFixed(2)}`]) : [];
    lines.push([r.n, r.objects, fmtMs(r.ms), fmtMs(r.cpuMs), fmtMs(r.wallMs), fmtMb(r.maxRssKb), growth, ...kcols].join(' | '));
  });
  const thousand = rows.find((r) => r.n === 1000);
  if (thousand) lines.push(`1,000 services: ${fmtMs(thousand.ms)} (target < 1 s: ${thousand.ms < 1000 ? 'met' : 'NOT met'})`);
  if (!kompose) lines.push('kompose: not found (pass --kompose <path> or set KOMPOSE)');
  else lines.push(`kompose: ${kompose}`);
  console.log(lines.join('\n'));
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else if (process.argv.some((a) => a.endsWith('bench/generate.mjs'))) await main();
