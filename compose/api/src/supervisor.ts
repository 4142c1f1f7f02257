/**
 * The api's main process: runs server.js as a cluster worker and restarts it in place on SIGHUP
 * (what `make dev` sends after it copied newly compiled code into the container). The new worker
 * starts first; only once it listens is the old one told to drain (SIGTERM) and stop, so requests
 * keep being served, and a new version that fails before it listens leaves the old one serving.
 * SIGTERM/SIGINT are passed to the worker (it drains in-flight requests); the process exits with
 * the worker's code. Each restart's outcome is written to RESTART_FILE for the caller to read.
 *
 * Workers start from a spare (preload.ts): one is kept booted with the dependencies loaded, so a
 * restart only loads the new code. SPARE_WORKER=0 goes without (one process fewer, slower restarts).
 */
import cluster, { type Worker } from 'node:cluster';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const RESTART_FILE = process.env.RESTART_FILE ?? '/tmp/stackport-restart';
const LISTEN_TIMEOUT_MS = Number(process.env.RESTART_TIMEOUT_MS ?? 60_000);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} supervisor: ${line}\n`);

const SPARE = process.env.SPARE_WORKER !== '0';
cluster.setupPrimary({ exec: path.join(__dirname, SPARE ? 'preload.js' : 'server.js') });

let spare: Worker | undefined;
/** A worker running the code on disk now: the spare, told to start, or a new one. */
function startWorker(): Worker {
  const w = spare && !spare.isDead() ? spare : cluster.fork();
  spare = undefined;
  if (SPARE) w.send('start');
  return w;
}
function keepSpare(): void {
  if (SPARE && !stopping && (!spare || spare.isDead())) spare = cluster.fork();
}

let stopping = false;
let current: Worker = startWorker();
current.once('listening', keepSpare);
let restarts = 0;
let exitCode = 0;

function record(outcome: string): void {
  try {
    writeFileSync(RESTART_FILE, `${restarts} ${outcome}\n`);
  } catch (err) {
    log(`cannot write ${RESTART_FILE}: ${(err as Error).message}`);
  }
}

function restart(): void {
  if (stopping) return;
  restarts += 1;
  const n = restarts;
  const old = current;
  const began = Date.now();
  const next = startWorker();
  let settled = false;
  const timer = setTimeout(() => fail(`did not listen within ${LISTEN_TIMEOUT_MS} ms`), LISTEN_TIMEOUT_MS);
  function fail(why: string): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    next.removeAllListeners('exit');
    if (!next.isDead()) next.process.kill('SIGKILL');
    log(`restart ${n} failed: the new worker ${why}; the previous one keeps serving`);
    record(`failed: the new worker ${why}`);
    keepSpare();
  }
  next.once('listening', () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    current = next;
    log(`restart ${n}: new worker ${next.process.pid} listens after ${Date.now() - began} ms; the previous one (${old.process.pid}) drains`);
    old.process.kill('SIGTERM');
    record('ok');
    keepSpare();
  });
  next.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before it listened`));
}

cluster.on('exit', (worker, code, signal) => {
  if (worker === current && !stopping) {
    // The serving worker died on its own: as without a supervisor, the container stops with it.
    stopping = true;
    exitCode = code ?? 1;
    log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`})`);
  }
  if (worker === current) exitCode = code ?? (signal ? 1 : 0);
  const left = Object.values(cluster.workers ?? {}).filter((w) => w && w !== worker && !w.isDead());
  if (stopping && left.length === 0) process.exit(exitCode);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
  });
}
process.on('SIGHUP', restart);
