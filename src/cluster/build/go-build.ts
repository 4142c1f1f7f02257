import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run, which } from '../../exec/run.js';
import { StackportError } from '../../errors.js';
import type { Progress } from '../../ui/progress.js';

/**
 * Builds Go programs from their published modules through a wrapper module: a tiny go.mod that
 * requires the upstream module (plus whatever replace/exclude/godebug lines upstream's own go.mod
 * would have applied, since `go install pkg@version` refuses modules that carry them) and a
 * tools.go that imports the main packages so `go mod tidy` resolves them.
 */
export interface GoProgram {
  /** main package import path */
  pkg: string;
  /** output file name in the bin dir */
  out: string;
}

export interface GoComponent {
  /** wrapper module name and src dir (e.g. "kubernetes") */
  name: string;
  module: string;
  version: string;
  /** `go` directive of the wrapper (at least upstream's). */
  go: string;
  /** extra go.mod text: replace, exclude, godebug blocks. */
  goModExtra?: string;
  programs: GoProgram[];
  ldflags?: string;
  tags?: string[];
}

export interface GoBuildOptions {
  srcDir: string;
  binDir: string;
  logDir: string;
  progress: Progress;
  /** step label prefix shown in the breakdown */
  label?: string;
}

const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  // The Go of this machine; a module needing a newer one must be chosen differently (see versions.ts).
  GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local',
  GOFLAGS: '-mod=mod',
  CGO_ENABLED: '0',
});

export function wrapperGoMod(c: GoComponent): string {
  return [
    `module stackport.local/${c.name}`,
    '',
    `go ${c.go}`,
    '',
    `require ${c.module} ${c.version}`,
    '',
    c.goModExtra ?? '',
  ].join('\n');
}

export function toolsGo(c: GoComponent): string {
  return ['//go:build tools', '', 'package tools', '', 'import (', ...c.programs.map((p) => `\t_ "${p.pkg}"`), ')', ''].join('\n');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A binary counts as built when it exists and its `.version` stamp names this exact version. */
export async function isBuilt(binDir: string, out: string, version: string): Promise<boolean> {
  try {
    return (await readFile(join(binDir, `.${out}.version`), 'utf8')).trim() === version && (await exists(join(binDir, out)));
  } catch {
    return false;
  }
}

export async function buildGoComponent(c: GoComponent, o: GoBuildOptions): Promise<void> {
  const missing: GoProgram[] = [];
  for (const p of c.programs) if (!(await isBuilt(o.binDir, p.out, c.version))) missing.push(p);
  if (missing.length === 0) return;
  if (!(await which('go'))) {
    throw new StackportError('the Go toolchain (go) is not on PATH', { hint: 'the kubeadm provider builds Kubernetes from Go modules: install Go 1.24+' });
  }

  const dir = join(o.srcDir, c.name);
  await mkdir(dir, { recursive: true });
  await mkdir(o.binDir, { recursive: true });
  await mkdir(o.logDir, { recursive: true });
  const log = createWriteStream(join(o.logDir, `build-${c.name}.log`), { flags: 'a' });
  const onOutput = (chunk: string) => void log.write(chunk);
  try {
    const goMod = wrapperGoMod(c);
    const current = await readFile(join(dir, 'go.mod'), 'utf8').catch(() => '');
    // go mod tidy rewrites go.mod (adds the indirect requires), so compare on our own header lines.
    const stampFile = join(dir, '.wrapper');
    const stamp = await readFile(stampFile, 'utf8').catch(() => '');
    if (stamp !== goMod || !current || !(await exists(join(dir, 'go.sum')))) {
      await writeFile(join(dir, 'go.mod'), goMod);
      await writeFile(join(dir, 'tools.go'), toolsGo(c));
      await rm(join(dir, 'go.sum'), { force: true });
      await o.progress.step(`${o.label ?? c.name}: download modules`, () =>
        run(['go', 'mod', 'tidy'], { cwd: dir, env: goEnv(), onOutput, what: `go mod tidy (${c.module}@${c.version})`, timeoutMs: 30 * 60_000 }),
      );
      await writeFile(stampFile, goMod);
    }
    for (const p of missing) {
      await o.progress.step(`build ${p.out}`, async () => {
        const tmp = join(o.binDir, `${p.out}.tmp`);
        const argv = ['go', 'build', '-p', '2', '-trimpath'];
        if (c.tags?.length) argv.push('-tags', c.tags.join(','));
        argv.push('-ldflags', `-s -w ${c.ldflags ?? ''}`.trim(), '-o', tmp, p.pkg);
        log.write(`\n$ ${argv.join(' ')}\n`);
        await run(argv, { cwd: dir, env: goEnv(), onOutput, what: `go build ${p.pkg}@${c.version}`, timeoutMs: 60 * 60_000 });
        await rename(tmp, join(o.binDir, p.out));
        await writeFile(join(o.binDir, `.${p.out}.version`), `${c.version}\n`);
      });
    }
  } finally {
    await new Promise((r) => log.end(r));
  }
}

