import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { HOST_COMMANDS } from '../../src/cluster/host/packages.js';
import { ENGINE_PACKAGES } from '../../src/engine/engine.js';
import { CommandError } from '../../src/errors.js';
import { pipe } from '../../src/exec/pipe.js';
import { PROGRAMS, type Program } from '../../src/exec/programs.js';
import { NOT_EXECUTABLE, NOT_FOUND, notInstalled, probe, run } from '../../src/exec/run.js';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const full = join(dir, e);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (/\.(ts|mjs)$/.test(e)) out.push(full);
  }
  return out;
}

/**
 * The programs the code spawns, by the literal it names them with: run/probe/pipe argv, spawn and
 * spawnSync, which(), daemon argv, argv builders (`function xArgv() { return ['prog', …] }`),
 * `for (const tool of ['a', 'b'])` loops over commands, Compose version probes and
 * `command -v` look-ups. A path variable (a binary we built, the Compose CLI found) is not a
 * literal and is listed by hand in PROGRAMS.
 */
export function spawnedPrograms(text: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /(?<![.\w])(?:run|probe)\(\s*\[\s*'([^']+)'/g,
    /(?<![.\w])pipe\(\s*\[\s*'([^']+)'/g,
    /(?<![.\w])pipe\(\s*\[[^\]]*\]\s*,\s*\[\s*'([^']+)'/g,
    /spawn(?:Sync)?\(\s*'([^']+)'/g,
    /which\('([^']+)'\)/g,
    /argv: \['([^']+)'/g,
    /function \w*Argv\([^)]*\)[^{]*\{\s*return \['([^']+)'/g,
    /versionOf\(\['([^']+)'/g,
    /command -v ([\w-]+)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.add(m[1]!);
  for (const m of text.matchAll(/for \(const tool of \[([^\]]+)\]\)/g)) for (const t of m[1]!.matchAll(/'([^']+)'/g)) found.add(t[1]!);
  return [...found];
}

const files = [...sources(join(root, 'src')), ...sources(join(root, 'scripts'))];
const spawned = new Map<string, string[]>();
for (const f of files) for (const p of spawnedPrograms(readFileSync(f, 'utf8'))) spawned.set(p, [...(spawned.get(p) ?? []), relative(root, f)]);

describe('every program the code spawns is accounted for', () => {
  it('the scanner finds the programs of a known snippet', () => {
    const snippet = "await run(['gcc', '-Os']); probe(['nft', 'list']); pipe([docker, 'save'], ['ctr', 'import']); spawn('dockerd', []); which('socat'); " +
      "for (const tool of ['iptables', 'ip6tables']) {} function entryArgv(ip: string): string[] { return ['socat', ip]; } k.run(['get']); spawnSync('sh', ['-c', 'command -v kompose'])";
    expect(spawnedPrograms(snippet).sort()).toEqual(['ctr', 'dockerd', 'gcc', 'ip6tables', 'iptables', 'kompose', 'nft', 'sh', 'socat'].sort());
  });

  it('scans a real tree (many programs, in many files)', () => {
    expect(spawned.size).toBeGreaterThan(20);
    expect(spawned.get('nft')).toContain('src/cluster/host/network.ts');
  });

  it.each([...spawned.keys()].sort())('%s is listed in src/exec/programs.ts', (program) => {
    if (!PROGRAMS[program]) throw new Error(`${program} (spawned in ${spawned.get(program)!.join(', ')}) is not in PROGRAMS: say who installs it, or make it optional with a message`);
  });

  it.each(Object.entries(PROGRAMS) as [string, Program][])('%s: its source says who installs it, and the installer agrees', (name: string, { source }: Program) => {
    if ('installedBy' in source) {
      if (source.installedBy === 'cluster-host-packages') expect(HOST_COMMANDS[name]).toBe(source.pkg);
      if (source.installedBy === 'engine') expect(ENGINE_PACKAGES).toContain(source.pkg);
      if (source.installedBy === 'apt-on-demand') expect(readFileSync(join(root, source.where), 'utf8')).toContain(`aptInstall(['${source.pkg}']`);
      if (source.installedBy === 'built') expect(source.where).not.toBe('');
    } else if ('essential' in source) {
      // Debian's own answer: Essential packages and priority "required" are on every install
      const q = spawnSync('dpkg-query', ['-W', '-f=${Essential} ${Priority}', source.essential], { encoding: 'utf8' });
      if (q.error) return; // not a Debian host: nothing to ask
      expect(q.stdout).toMatch(/^yes |required$/);
    } else if ('machine' in source || 'inContainer' in source) {
      expect(source.whenMissing.length).toBeGreaterThan(10);
    } else {
      expect(source.optional).toBe(true);
      expect(source.whenMissing.length).toBeGreaterThan(10);
    }
  });

  it('every program the cluster host needs installed is in HOST_COMMANDS (nftables included)', () => {
    for (const p of ['nft', 'ipset', 'iptables', 'ip6tables', 'socat', 'ip']) expect(HOST_COMMANDS[p]).toBeDefined();
  });

  it('docs/programs.md lists exactly the programs of PROGRAMS', () => {
    const doc = readFileSync(join(root, 'docs', 'programs.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
    expect(rows.sort()).toEqual(Object.keys(PROGRAMS).sort());
  });
});

describe('probe: a missing program is an answer', () => {
  it('answers 127 with a clear stderr for a program that is not installed', async () => {
    const r = await probe(['stackport-no-such-program', '--version']);
    expect(r.exitCode).toBe(NOT_FOUND);
    expect(r.stderr).toBe('stackport: cannot run stackport-no-such-program: is not installed (not found on PATH)');
    expect(notInstalled(r)).toBe(true);
  });

  it('answers 126 for a file that is not executable', async () => {
    const r = await probe([join(root, 'package.json')]);
    expect(r.exitCode).toBe(NOT_EXECUTABLE);
    expect(notInstalled(r)).toBe(true);
  });

  it('still answers with input on stdin', async () => {
    expect((await probe(['stackport-no-such-program'], { input: 'x' })).exitCode).toBe(NOT_FOUND);
    expect((await probe(['cat'], { input: 'x' })).stdout).toBe('x');
  });

  it('a program that ran and failed is not "not installed"', async () => {
    const r = await probe(['sh', '-c', 'echo oops >&2; exit 127']);
    expect(r.exitCode).toBe(127);
    expect(notInstalled(r)).toBe(false);
  });

  it('run throws a CommandError that says the program is missing and how to get it', async () => {
    const e = await run(['stackport-no-such-program', 'list'], { what: 'listing things' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).message).toBe('listing things could not start: stackport-no-such-program is not installed (not found on PATH)');
    expect((e as CommandError).hint).toMatch(/docs\/programs\.md/);
    expect((e as CommandError).code).toBe(NOT_FOUND);
  });

  it('a missing working directory is not reported as a missing program', async () => {
    await expect(probe(['ls'], { cwd: '/nonexistent-stackport-dir' })).rejects.toThrow(/working directory .* does not exist/);
  });

  it('pipe: either side missing is a CommandError with exit code 127', async () => {
    const a = await pipe(['stackport-no-such-program'], ['cat']).catch((x: unknown) => x);
    expect(a).toBeInstanceOf(CommandError);
    expect((a as CommandError).code).toBe(NOT_FOUND);
    const b = await pipe(['echo', 'hi'], ['stackport-no-such-program']).catch((x: unknown) => x);
    expect((b as CommandError).message).toMatch(/could not start: stackport-no-such-program is not installed/);
    expect((await pipe(['echo', 'hi'], ['cat'])).stdout).toBe('hi\n');
  });
});
