import { Readable, Writable } from 'node:stream';
import { extract, pack, type Header } from 'tar-stream';
import { SLIM_FILES, keepInSlim, memberPath, slimRecipeHash, slimRootfs } from '../../src/engine/debian-slim.js';

type Member = Partial<Header> & { name: string; body?: string };

async function tarOf(members: Member[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const { body, ...h } of members) {
    await new Promise<void>((resolve, reject) => p.entry({ type: 'file', mode: 0o644, ...h }, body ?? '', (e) => (e ? reject(e) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function membersOf(tar: Buffer): Promise<Map<string, { header: Header; body: string }>> {
  const out = new Map<string, { header: Header; body: string }>();
  const x = extract();
  const read = (async () => {
    for await (const entry of x) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(Buffer.from(c as Uint8Array));
      out.set(entry.header.name, { header: entry.header, body: Buffer.concat(parts).toString() });
    }
  })();
  x.end(tar);
  await read;
  return out;
}

async function slim(tar: Buffer) {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(c, _e, cb) {
      parts.push(c as Buffer);
      cb();
    },
  });
  const result = await slimRootfs(Readable.from([tar]), sink);
  return { result, members: await membersOf(Buffer.concat(parts)) };
}

describe('the slim Debian base (as the official slim images)', () => {
  test('tar member names become absolute paths', () => {
    expect(memberPath('./usr/share/doc/')).toBe('/usr/share/doc');
    expect(memberPath('usr/bin/bash')).toBe('/usr/bin/bash');
    expect(memberPath('./')).toBe('/');
  });

  test('docs, man pages, translations and apt lists go; licences, binaries, zoneinfo and directories stay', () => {
    for (const p of ['./usr/share/doc/bash/README', './usr/share/doc/bash/examples/x/y', './usr/share/man/man1/ls.1.gz', './usr/share/locale/de/LC_MESSAGES/apt.mo', './usr/share/info/dir', './var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages', './var/cache/apt/pkgcache.bin', './var/cache/apt/archives/bash_5.2_amd64.deb']) {
      expect([p, keepInSlim(p, 'file')]).toEqual([p, false]);
    }
    for (const p of ['./usr/share/doc/bash/copyright', './usr/bin/bash', './usr/share/zoneinfo/Etc/UTC', './usr/share/postgresql/15/postgres.bki', './usr/lib/locale/C.utf8/LC_CTYPE', './var/lib/dpkg/status', './usr/share/locale/locale.alias']) {
      expect([p, keepInSlim(p, 'file')]).toEqual([p, true]);
    }
    expect(keepInSlim('./usr/share/man/man1/', 'directory')).toBe(true);
    expect(keepInSlim('./usr/share/man/man1/sh.1.gz', 'symlink')).toBe(false);
  });

  test('a rootfs streams through: members kept byte for byte with their modes and owners, the rest left out, the settings added', async () => {
    const tar = await tarOf([
      { name: './', type: 'directory', mode: 0o755 },
      { name: './usr/bin/passwd', mode: 0o4755, body: 'ELF passwd', uid: 0, gid: 0 },
      { name: './usr/bin/perl', mode: 0o755, body: 'ELF perl' },
      { name: './usr/bin/perl5.36.0', type: 'link', linkname: './usr/bin/perl', mode: 0o755 },
      { name: './var/mail', type: 'directory', mode: 0o2775, gid: 8 },
      { name: './dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: './usr/share/doc/bash/copyright', body: 'GPL' },
      { name: './usr/share/doc/bash/README', body: 'x'.repeat(5000) },
      { name: './usr/share/man/man1/', type: 'directory', mode: 0o755 },
      { name: './usr/share/man/man1/bash.1.gz', body: 'y'.repeat(3000) },
      { name: './var/lib/apt/lists/Packages', body: 'z'.repeat(2000) },
      { name: './etc/dpkg/dpkg.cfg.d/docker', body: 'someone else\'s' },
    ]);
    const { result, members } = await slim(tar);
    expect(result.dropped).toBe(4);
    expect(result.droppedBytes).toBe(5000 + 3000 + 2000 + "someone else's".length);
    expect(members.get('./usr/bin/passwd')?.header.mode).toBe(0o4755);
    expect(members.get('./usr/bin/passwd')?.body).toBe('ELF passwd');
    expect(members.get('./usr/bin/perl5.36.0')?.header.type).toBe('link');
    expect(members.get('./var/mail')?.header).toMatchObject({ type: 'directory', mode: 0o2775, gid: 8 });
    expect(members.get('./dev/null')?.header).toMatchObject({ type: 'character-device', devmajor: 1, devminor: 3 });
    expect(members.get('./usr/share/doc/bash/copyright')?.body).toBe('GPL');
    expect(members.has('./usr/share/man/man1/')).toBe(true);
    for (const gone of ['./usr/share/doc/bash/README', './usr/share/man/man1/bash.1.gz', './var/lib/apt/lists/Packages']) expect(members.has(gone)).toBe(false);
    // the settings that keep later installs slim replace whatever the rootfs had there
    expect(members.get('./etc/dpkg/dpkg.cfg.d/docker')?.body).toContain('path-exclude /usr/share/doc/*');
    expect(members.get('./etc/dpkg/dpkg.cfg.d/docker')?.body).toContain('path-include /usr/share/doc/*/copyright');
    expect(members.get('./etc/apt/apt.conf.d/docker-clean')?.body).toContain('Dir::Cache::pkgcache ""');
    expect(members.get('./usr/sbin/policy-rc.d')?.header.mode).toBe(0o755);
    expect(members.get('./usr/sbin/policy-rc.d')?.body).toContain('exit 101');
    expect([...members.keys()].filter((k) => Object.keys(SLIM_FILES).includes(memberPath(k)))).toHaveLength(Object.keys(SLIM_FILES).length);
  });

  test('a hard link to a member the filter leaves out is an error, not a broken image', async () => {
    const tar = await tarOf([
      { name: './usr/share/doc/x/README', body: 'readme' },
      { name: './usr/bin/readme', type: 'link', linkname: './usr/share/doc/x/README' },
    ]);
    await expect(slim(tar)).rejects.toThrow(/usr\/bin\/readme is a hard link to .*README, which the slim filter leaves out/);
  });

  test('the recipe hash is stable (it labels the base and is part of each drop-in recipe)', () => {
    expect(slimRecipeHash()).toMatch(/^[0-9a-f]{16}$/);
    expect(slimRecipeHash()).toBe(slimRecipeHash());
  });
});
