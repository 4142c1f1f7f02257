// How the entry scripts load the library. A drop-in for tsx's register():
//   import { register } from './lib/load.mjs';   // was: import { register } from 'tsx/esm/api';
//   register();
//   const { report } = await import('../src/ui/report.ts');
// The imports of src/**/*.ts are served from the compiled library (scripts/lib/build.mjs; built
// on first use after a source changed, a few seconds once) through a module resolve hook, so a
// command starts in Node time instead of tsx's. make goes one step further: scripts/lib/run.mjs
// runs the script's own bundle, without any hook. STACKPORT_TSX=1, or a failed build, uses tsx as
// before (development). A script names its src/ modules literally (`import('../src/x/y.ts')`):
// the build finds its entries that way.
import { register as registerHook } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, SRC } from './build.mjs';

/** The compiled src/ directory, or undefined when tsx serves the sources. */
let compiled;
if (process.env.STACKPORT_TSX !== '1') {
  try {
    compiled = (await ensureBuilt()).src;
  } catch (e) {
    if (process.env.DEBUG?.includes('stackport')) process.stderr.write(`stackport: compiled library unavailable, using tsx: ${e instanceof Error ? e.message : e}\n`);
  }
}
// resolved before the script's own code runs, so register() stays synchronous, as tsx's is
const tsx = compiled ? undefined : (await import('tsx/esm/api')).register;

// Serves the imports of the src/ .ts files; returns how: compiled or tsx.
export function register() {
  if (compiled) {
    registerHook('./resolve-hook.mjs', import.meta.url, { data: { src: `${pathToFileURL(SRC).href}/`, out: `${pathToFileURL(compiled).href}/` } });
    return 'compiled';
  }
  tsx();
  return 'tsx';
}
