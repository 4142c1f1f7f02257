#!/usr/bin/env -S npx zx
// make up: engine, Compose, images, credentials, build, start, wait until healthy, smoke test.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { upCommand } = await import('../src/stack/commands.ts');
upCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('up.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
