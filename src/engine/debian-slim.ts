/**
 * The Debian base of the drop-ins made "slim" the way Debian's official images are
 * (debuerreotype's slimify and minimizing-config): the debootstrap rootfs streams through a
 * filter on its way to `docker import`, which leaves out documentation, man pages, translations
 * and apt's lists and caches, and adds the dpkg and apt settings that keep every later
 * `apt-get install` in a drop-in's Dockerfile that way (path-exclude; no .deb, no pkgcache.bin
 * left behind; no service started during a build).
 */
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack, type Header } from 'tar-stream';
import { StackportError } from '../errors.js';

/** What dpkg leaves out (and what the filter removes from the debootstrap rootfs). */
export const SLIM_EXCLUDES = ['/usr/share/doc/*', '/usr/share/info/*', '/usr/share/linda/*', '/usr/share/lintian/overrides/*', '/usr/share/locale/*', '/usr/share/man/*'];
/** ...except these: licences, and the locale alias table localedef reads. */
export const SLIM_INCLUDES = ['/usr/share/doc/*/copyright', '/usr/share/locale/locale.alias'];
/** apt's package lists and caches: `apt-get update` makes them again where a build needs them. */
const APT_STATE = ['/var/lib/apt/lists/*', '/var/cache/apt/*.bin', '/var/cache/apt/archives/*.deb', '/var/cache/apt/archives/partial/*'];

const aptClean = '"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";';

/** Files added to the base: path -> mode and content. */
export const SLIM_FILES: Record<string, { mode: number; text: string }> = {
  '/etc/dpkg/dpkg.cfg.d/docker': {
    mode: 0o644,
    text: [
      '# stackport: the slim Debian base (as Debian\'s official images): files containers do not need',
      '# are left out of every package installed, and this file keeps them out.',
      ...SLIM_EXCLUDES.map((p) => `path-exclude ${p}`),
      ...SLIM_INCLUDES.map((p) => `path-include ${p}`),
      '',
    ].join('\n'),
  },
  '/etc/dpkg/dpkg.cfg.d/docker-apt-speedup': { mode: 0o644, text: '# no fsync per unpacked file: an image build is thrown away when it fails\nforce-unsafe-io\n' },
  '/etc/apt/apt.conf.d/docker-clean': {
    mode: 0o644,
    text: `# no .deb and no package cache left in a layer\nDPkg::Post-Invoke { ${aptClean} };\nAPT::Update::Post-Invoke { ${aptClean} };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n`,
  },
  '/etc/apt/apt.conf.d/docker-gzip-indexes': { mode: 0o644, text: 'Acquire::GzipIndexes "true";\n' },
  '/etc/apt/apt.conf.d/docker-no-languages': { mode: 0o644, text: 'Acquire::Languages "none";\n' },
  '/etc/apt/apt.conf.d/docker-autoremove-suggests': { mode: 0o644, text: 'Apt::AutoRemove::SuggestsImportant "false";\n' },
  // a package's postinst must not start its service inside `docker build`
  '/usr/sbin/policy-rc.d': { mode: 0o755, text: '#!/bin/sh\n# stackport: no service starts during an image build\nexit 101\n' },
};

/** dpkg's path-exclude globs: fnmatch without FNM_PATHNAME, so `*` matches `/` too. */
function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const excluded = [...SLIM_EXCLUDES, ...APT_STATE].map(globRegExp);
const included = SLIM_INCLUDES.map(globRegExp);
const added = new Set(Object.keys(SLIM_FILES));

/** `./usr/share/doc/` -> `/usr/share/doc` (tar member names as absolute paths). */
export function memberPath(name: string): string {
  const p = `/${name.replace(/^\.?\/+/, '').replace(/^\.$/, '')}`.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

/** Whether a rootfs member stays in the slim base (directories always do, as with dpkg). */
export function keepInSlim(name: string, type: Header['type']): boolean {
  const p = memberPath(name);
  if (added.has(p)) return false; // replaced by SLIM_FILES
  if (type === 'directory') return true;
  if (!excluded.some((r) => r.test(p))) return true;
  return included.some((r) => r.test(p));
}

/** The slim recipe's hash: the base image's label, and part of every drop-in's recipe hash. */
export function slimRecipeHash(): string {
  const h = createHash('sha256');
  for (const p of [...SLIM_EXCLUDES, '\0', ...SLIM_INCLUDES, '\0', ...APT_STATE]) h.update(p).update('\0');
  for (const [p, f] of Object.entries(SLIM_FILES).sort()) h.update(p).update(String(f.mode)).update(f.text).update('\0');
  return h.digest('hex').slice(0, 16);
}

export interface SlimResult {
  kept: number;
  dropped: number;
  droppedBytes: number;
}

/** Streams a rootfs tarball into a slim one: members filtered by keepInSlim, SLIM_FILES added. */
export async function slimRootfs(input: Readable, output: Writable): Promise<SlimResult> {
  const extract = tarExtract();
  const pack = tarPack();
  const result: SlimResult = { kept: 0, dropped: 0, droppedBytes: 0 };
  const dropped = new Set<string>();
  const done = pipeline(pack, output);
  const read = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      if (!keepInSlim(h.name, h.type)) {
        dropped.add(memberPath(h.name));
        result.dropped++;
        result.droppedBytes += h.size ?? 0;
        entry.resume();
        continue;
      }
      if (h.type === 'link' && h.linkname && dropped.has(memberPath(h.linkname))) {
        throw new StackportError(`slim base: ${h.name} is a hard link to ${h.linkname}, which the slim filter leaves out`, {
          hint: 'add the link to SLIM_INCLUDES or its target to the excludes (src/engine/debian-slim.ts)',
        });
      }
      result.kept++;
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
        entry.pipe(sink);
      });
    }
    for (const [p, f] of Object.entries(SLIM_FILES).sort()) {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: `.${p}`, mode: f.mode, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(0), type: 'file' }, f.text, (err) => (err ? reject(err) : resolve())),
      );
      result.kept++;
    }
    pack.finalize();
  })();
  const fed = pipeline(input, extract);
  try {
    await Promise.all([fed, read, done]);
  } catch (e) {
    pack.destroy();
    extract.destroy();
    throw e;
  }
  return result;
}
