// What make runs: `node scripts/lib/run.mjs scripts/<name>.mjs [args]` runs the script's compiled
// bundle (scripts/lib/build.mjs: the script and the library it imports in one file, no module
// hooks), as if `node scripts/<name>.mjs [args]` had been run: process.argv and import.meta.url
// are the script's own. A script without a bundle (STACKPORT_TSX=1, a failed build) runs as it is.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT } from './build.mjs';

const [script, ...args] = process.argv.slice(2);
if (!script) {
  process.stderr.write('usage: node scripts/lib/run.mjs scripts/<name>.mjs [args]\n');
  process.exit(2);
}
const own = path.resolve(script);
let target = own;
if (process.env.STACKPORT_TSX !== '1') {
  try {
    const compiled = path.join((await ensureBuilt()).scripts, path.relative(path.join(ROOT, 'scripts'), own).replace(/\.mjs$/, '.js'));
    if (existsSync(compiled)) target = compiled;
  } catch (e) {
    if (process.env.DEBUG?.includes('stackport')) process.stderr.write(`stackport: no compiled script, running ${script} itself: ${e instanceof Error ? e.message : e}\n`);
  }
}
process.argv = [process.argv[0], own, ...args];
await import(pathToFileURL(target).href);
