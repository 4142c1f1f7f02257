#!/usr/bin/env -S npx zx
// make build: build the stack's images (only what changed); WEB_VERSION=2 make build makes stackport-web:2.
import { register } from 'tsx/esm/api';
register();
const { report } = await import('../src/ui/report.ts');
const { buildCommand } = await import('../src/stack/commands.ts');
buildCommand(process.argv.slice(process.argv.findIndex((a) => a.endsWith('build.mjs')) + 1), { root: new URL('..', import.meta.url).pathname }).catch(report);
