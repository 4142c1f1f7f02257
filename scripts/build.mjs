#!/usr/bin/env -S npx zx
// make build: build the stack's images (only what changed); WEB_VERSION=2 make build makes stackport-web:2.
import { register } from './lib/load.mjs';
register();
const { report } = await import('../src/ui/report.ts');
const { scriptArgs } = await import('../src/ui/args.ts');
const { buildCommand } = await import('../src/stack/commands.ts');
buildCommand(scriptArgs(import.meta.url), { root: new URL('..', import.meta.url).pathname }).catch(report);
