/**
 * scripts/lib/load.mjs: the entry scripts run the compiled library (esbuild bundle of src/),
 * with tsx as the fallback; both give the same command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const node = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });

test('register() serves src/ compiled, or through tsx with STACKPORT_TSX=1', () => {
  const probe = ['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(ROOT, 'scripts/lib/load.mjs'))}); console.log(m.register());`];
  expect(node(probe).stdout.trim()).toBe('compiled');
  expect(node(probe, { STACKPORT_TSX: '1' }).stdout.trim()).toBe('tsx');
  const lib = path.join(ROOT, '.stackport/lib');
  const builds = readdirSync(lib).filter((d) => !d.startsWith('.'));
  expect(builds.length).toBe(1);
  expect(existsSync(path.join(lib, builds[0]!, 'src/k8s/generate-command.js'))).toBe(true);
}, 60_000);

test('the compiled and the tsx command behave the same: help, output, and a bad input (exit 2, one line, no stack)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stackport-loader-'));
  try {
    writeFileSync(path.join(dir, 'ok.yaml'), 'services:\n  web:\n    image: nginx:1.27\n    ports: ["8080:80"]\n');
    writeFileSync(path.join(dir, 'bad.yaml'), 'services:\n  a:\n    image: a\n    ports: ["99999:1"]\n');
    const gen = path.join(ROOT, 'scripts/generate.mjs');
    for (const [args, code] of [[['--help'], 0], [['-f', 'ok.yaml', '-o', 'out-MODE'], 0], [['-f', 'bad.yaml', '-o', 'bad-MODE'], 2]] as const) {
      const compiled = node([gen, ...args.map((a) => a.replace('MODE', 'c'))], {}, dir);
      const tsx = node([gen, ...args.map((a) => a.replace('MODE', 't'))], { STACKPORT_TSX: '1' }, dir);
      expect(compiled.status).toBe(code);
      expect(tsx.status).toBe(code);
      expect(compiled.stdout.replace(/out-c/g, 'out')).toBe(tsx.stdout.replace(/out-t/g, 'out'));
      expect(compiled.stderr).toBe(tsx.stderr);
    }
    expect(node([gen, '-f', 'bad.yaml', '-o', 'x'], {}, dir).stderr).toBe('error: bad.yaml:4:13: services.a.ports[0]: port 99999 is out of range (1-65535)\nhint: fix the Compose file and run again\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
