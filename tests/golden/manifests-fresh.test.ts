/**
 * The committed manifests/ are generated from compose/compose.yaml: this fails when either
 * changed without the other (run `make generate`, i.e. the command below without --check).
 */
import path from 'node:path';
import { StackportError } from '../../src/errors.js';
import { generateCommand } from '../../src/k8s/generate-command.js';

const ROOT = path.resolve(__dirname, '../..');
/** `make generate` / `make generate-check`: the documented defaults, nothing else. */
export const DEMO_ARGS: string[] = [];

/** As on a fresh clone: no compose/.env, no COMPOSE_* or secret variables from the shell. */
const FRESH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(COMPOSE_|POSTGRES_|RABBITMQ_)/.test(k)));

test.each([
  ['the documented defaults', DEMO_ARGS],
  ['the same spelled out', ['-f', 'compose/compose.yaml', '-o', 'manifests', '--project-name', 'stackport', '--env-file', '/dev/null']],
])('manifests/ is fresh for compose/compose.yaml with %s, without compose/.env', async (_, args) => {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: () => undefined, validator: async () => () => undefined, cwd: ROOT };
  const saved = process.env;
  process.env = FRESH_ENV;
  try {
    expect(await generateCommand([...args, '--check'], io)).toBe(0);
  } catch (e) {
    const err = e as StackportError;
    throw new Error(`${err.message}\n${err.details ?? ''}\n${err.hint ?? ''}`);
  } finally {
    process.env = saved;
  }
  expect(lines.join('\n')).toContain('manifests/ is up to date');
});

test('manifests/ builds with kubectl kustomize for both overlays and the top level', () => {
  const { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const { parse } = require('yaml') as typeof import('yaml');
  const dir = mkdtempSync(path.join(require('node:os').tmpdir(), 'stackport-manifests-'));
  try {
    cpSync(path.join(ROOT, 'manifests'), dir, { recursive: true });
    const k = parse(readFileSync(path.join(dir, 'base/kustomization.yaml'), 'utf8')) as { secretGenerator?: { envs?: string[] }[] };
    for (const g of k.secretGenerator ?? []) for (const e of g.envs ?? []) {
      mkdirSync(path.dirname(path.join(dir, 'base', e)), { recursive: true });
      writeFileSync(path.join(dir, 'base', e), 'PLACEHOLDER=x\n');
    }
    for (const overlay of ['overlays/kind', 'overlays/kubeadm', '.']) {
      const yaml = execFileSync('kubectl', ['kustomize', path.join(dir, overlay)], { encoding: 'utf8' });
      // the API server allocates the entry's NodePort; the entry Service says it is the entry
      expect(yaml).not.toContain('nodePort:');
      expect(yaml).toContain('stackport.dev/entry: "true"');
      expect(yaml).toContain('namespace: stackport');
      expect(yaml).not.toContain('imagePullPolicy: Always');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
