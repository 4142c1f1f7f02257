/**
 * A spare worker of the supervisor: it boots Node and loads the api's dependencies (those of
 * package.json: pg, amqplib) ahead of time, then waits. Told "start", it loads server.js from
 * disk as it is then (the code `make dev` just copied in) and runs it. A restart in place then
 * pays for loading the new code, not for Node's start and the dependencies (about 1.2-1.7 s of
 * a 2-core machine at load 15, measured with `node -e "require('pg'); require('amqplib')"`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

let started = false;
process.on('message', (m) => {
  if (m !== 'start' || started) return;
  started = true;
  require('./server.js');
});

const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
for (const dep of Object.keys(pkg.dependencies ?? {})) {
  try {
    require(dep);
  } catch {
    // a dependency that does not load on its own is loaded by server.js, as without a spare
  }
}
process.send?.('ready');
