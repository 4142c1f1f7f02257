import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StackportError } from '../../src/errors.js';
import { commandArgs, scriptArgs } from '../../src/ui/args.js';
import { parseFlags } from '../../src/stack/commands.js';
import { parseArgs as clusterArgs } from '../../src/cluster/command.js';
import { parseGenerateArgs } from '../../src/k8s/generate-command.js';
import { parseDevArgs } from '../../src/dev/dev.js';
import { migrateCommand } from '../../src/migrate/command.js';
import { k8sCommand } from '../../src/operate/command.js';
import { prepareCommand } from '../../src/prepare/command.js';

const dir = mkdtempSync(path.join(tmpdir(), 'script-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(path.join(dir, 'scripts'));
const script = path.join(dir, 'scripts', 'up.mjs');
writeFileSync(script, '');
symlinkSync(dir, `${dir}-link`);
afterAll(() => rmSync(`${dir}-link`, { force: true }));
const url = pathToFileURL(script).href;

describe('scriptArgs: the arguments after the script, however it was started', () => {
  test.each([
    ['node scripts/x.mjs', ['/usr/bin/node', script, '-f', 'a.yaml']],
    ['npx zx scripts/x.mjs', ['/usr/bin/node', '/n/zx/build/cli.js', script, '-f', 'a.yaml']],
    ['through a symlinked checkout', ['/usr/bin/node', path.join(`${dir}-link`, 'scripts', 'up.mjs'), '-f', 'a.yaml']],
  ])('%s', (_how, argv) => {
    expect(scriptArgs(url, argv)).toEqual(['-f', 'a.yaml']);
  });
  test('an argument that only ends like the script is not taken for it', () => {
    expect(scriptArgs(url, ['/usr/bin/node', script, '-f', 'other/up.mjs', 'x'])).toEqual(['-f', 'other/up.mjs', 'x']);
  });
});

/** What a command says for argv: its one line and exit code, or 'accepted'. */
async function refusal(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(StackportError);
    return `${(e as StackportError).message} (exit ${(e as StackportError).exitCode})`;
  }
  return 'accepted';
}

const COMMANDS: [string, (argv: string[]) => unknown][] = [
  ['up', (a) => parseFlags(a, ['-f', '--no-smoke'], 'up')],
  ['logs', (a) => parseFlags(a, ['-f', '--follow', '--tail'], 'logs')],
  ['cluster', (a) => clusterArgs(['up', ...a])],
  ['generate', (a) => parseGenerateArgs(a, '/repo', {})],
  ['dev', (a) => parseDevArgs(a)],
  ['migrate', (a) => migrateCommand(a, { root: dir })],
  ['k8s', (a) => k8sCommand(['status', ...a], { root: dir, out: { write: () => true } as unknown as NodeJS.WritableStream })],
  ['prepare', (a) => prepareCommand(a, { root: dir, out: { write: () => true } as unknown as NodeJS.WritableStream })],
];

describe('one parser: every command refuses a bad flag with the same one line, exit 2', () => {
  test.each(COMMANDS)('%s', async (_name, parse) => {
    expect(await refusal(() => parse(['--frobnicate']))).toBe('unknown option --frobnicate (exit 2)');
    expect(await refusal(() => parse(['--frobnicate=1']))).toBe('unknown option --frobnicate (exit 2)');
  });
  test('a flag without its value, and a flag that takes none', async () => {
    expect(await refusal(() => parseFlags(['-f'], ['-f'], 'down'))).toBe('option --file needs a value (exit 2)');
    expect(await refusal(() => clusterArgs(['up', '--provider']))).toBe('option --provider needs a value (exit 2)');
    expect(await refusal(() => migrateCommand(['--file', '--dry-run'], { root: dir }))).toBe('option --file needs a value (exit 2)');
    expect(await refusal(() => parseFlags(['--no-smoke=yes'], ['--no-smoke'], 'up'))).toBe('option --no-smoke takes no value (exit 2)');
  });
  test('a stray argument, and a flag another command has', async () => {
    expect(await refusal(() => parseFlags(['web'], ['-f'], 'smoke'))).toBe('unexpected argument web (exit 2)');
    expect(await refusal(() => parseFlags(['--follow'], ['-f'], 'down'))).toBe('unknown option --follow (exit 2)');
    expect(await refusal(() => clusterArgs(['up', 'now']))).toBe('unexpected argument now (exit 2)');
  });
  test('the stack commands keep their flags: several -f in order, --tail n or --tail=n, services for logs', () => {
    expect(parseFlags(['-f', 'a.yaml', '--file', 'b.yaml', '--no-smoke', '--verbose'], ['-f', '--no-smoke'], 'up')).toMatchObject({ files: ['a.yaml', 'b.yaml'], smoke: false, help: false });
    expect(parseFlags(['--tail=5', 'web', '--follow', 'api'], ['-f', '--follow', '--tail'], 'logs')).toMatchObject({ tail: 5, follow: true, services: ['web', 'api'] });
    expect(parseFlags(['--tail', '7'], ['-f', '--follow', '--tail'], 'logs')).toMatchObject({ tail: 7 });
    expect(parseFlags(['-h'], ['-f'], 'status')).toMatchObject({ help: true, usage: expect.stringMatching(/^usage: npx zx scripts\/status\.mjs \[-f <file>\]\n {2}-f, --file <file>/) });
  });
  test('cluster keeps its flags: --provider=x and --provider x, registry down --purge, --kubeconfig', () => {
    expect(clusterArgs(['up', '--provider=kind', '--nodes', '3'])).toMatchObject({ action: 'up', provider: 'kind', nodes: 3 });
    expect(clusterArgs(['status', '--provider', 'kubeadm', '--json'])).toMatchObject({ action: 'status', provider: 'kubeadm', json: true });
    expect(clusterArgs(['--help'])).toMatchObject({ help: true });
  });
  test('commandArgs: --verbose and -h are every command\'s', () => {
    expect(commandArgs(['--verbose', '-h'], {}).values).toEqual({ verbose: true, help: true });
  });
});
