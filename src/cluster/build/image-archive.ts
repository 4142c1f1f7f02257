import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../exec/run.js';

/**
 * Writes container images without a registry or a Docker engine, in the `docker save` archive
 * format that `ctr images import` reads:
 *   manifest.json                [{Config, RepoTags, Layers}]
 *   <config-digest>.json         image config (architecture, os, config.Env/Entrypoint/Cmd, rootfs.diff_ids)
 *   <diff-id>/layer.tar          one uncompressed tar per layer
 * A layer is made from a directory (FROM scratch style) or reused from a tarball (e.g. a Debian base).
 */
export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface ImageSpec {
  /** full names, e.g. registry.k8s.io/pause:3.10.1 */
  tags: string[];
  /** layer tarballs, bottom first */
  layers: string[];
  config: ImageConfig;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Packs a directory into a layer tarball. Entries are owned by root and dated at the epoch so the
 * same input gives the same digest. `keepOwners` keeps numeric owners (a debootstrap'd rootfs).
 */
export async function layerFromDir(dir: string, out: string, keepOwners = false): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const argv = ['tar', '--numeric-owner', '--sort=name', '--mtime=@0', '--xattrs', '-C', dir, '-cf', `${out}.tmp`];
  if (!keepOwners) argv.splice(1, 0, '--owner=0', '--group=0');
  argv.push('.');
  await run(argv, { what: `packing layer ${out}` });
  await rename(`${out}.tmp`, out);
}

/** Writes the image archive `out` from already packed layers. */
export async function writeImageArchive(spec: ImageSpec, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const work = await mkdtemp(join(dirname(out), '.image-'));
  try {
    const diffIds: string[] = [];
    const layerPaths: string[] = [];
    for (const layer of spec.layers) {
      const digest = await sha256File(layer);
      diffIds.push(`sha256:${digest}`);
      const rel = `${digest}/layer.tar`;
      await mkdir(join(work, digest), { recursive: true });
      // hard link where possible: base layers are hundreds of MB
      await link(layer, join(work, rel)).catch(() => copyFile(layer, join(work, rel)));
      layerPaths.push(rel);
    }
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Env: [DEFAULT_PATH], ...spec.config },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: spec.layers.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: 'stackport' })),
    };
    const configJson = JSON.stringify(config);
    const configDigest = createHash('sha256').update(configJson).digest('hex');
    await writeFile(join(work, `${configDigest}.json`), configJson);
    const manifest = [{ Config: `${configDigest}.json`, RepoTags: spec.tags, Layers: layerPaths }];
    await writeFile(join(work, 'manifest.json'), JSON.stringify(manifest));
    const repositories: Record<string, Record<string, string>> = {};
    for (const t of spec.tags) {
      const i = t.lastIndexOf(':');
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = diffIds[diffIds.length - 1]!.slice(7);
    }
    await writeFile(join(work, 'repositories'), JSON.stringify(repositories));
    await run(['tar', '--owner=0', '--group=0', '--numeric-owner', '--hard-dereference', '-C', work, '-cf', `${out}.tmp`, '.'], {
      what: `writing image archive ${out}`,
    });
    await rename(`${out}.tmp`, out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A minimal root filesystem for a static binary: /etc/passwd and /etc/group (root, nobody),
 * /etc/nsswitch.conf, a world-writable /tmp, and the files given (path in image → source).
 */
export async function scratchRootfs(dir: string, files: Record<string, string>, symlinks: Record<string, string> = {}): Promise<void> {
  const { chmod, symlink } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'etc/nsswitch.conf'), 'hosts: files dns\n');
  for (const [inImage, source] of Object.entries(files)) {
    const target = join(dir, inImage);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
    await chmod(target, 0o755);
  }
  for (const [inImage, to] of Object.entries(symlinks)) {
    const target = join(dir, inImage);
    await mkdir(dirname(target), { recursive: true });
    await symlink(to, target);
  }
}
