import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../exec/run.js';
import { StackportError } from '../../errors.js';
import type { Progress } from '../../ui/progress.js';
import type { CacheLayout } from './cache.js';
import { KUBE_PROXY_PACKAGES, buildDebianBase } from './debian-base.js';
import { DEFAULT_PATH, layerFromDir, scratchRootfs, writeImageArchive, type ImageConfig } from './image-archive.js';
import { buildPause } from './pause.js';

/** kubeadm's image list, split into what each one is. */
export interface KubeadmImages {
  apiserver: string;
  controllerManager: string;
  scheduler: string;
  proxy: string;
  coredns: string;
  pause: string;
  etcd: string;
}

export function parseImagesList(text: string): KubeadmImages {
  const names = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const find = (re: RegExp) => {
    const n = names.find((x) => re.test(x.replace(/:[^:/]+$/, '')));
    if (!n) throw new StackportError(`kubeadm config images list did not name ${re}`, { details: text });
    return n;
  };
  return {
    apiserver: find(/\/kube-apiserver$/),
    controllerManager: find(/\/kube-controller-manager$/),
    scheduler: find(/\/kube-scheduler$/),
    proxy: find(/\/kube-proxy$/),
    coredns: find(/\/coredns$/),
    pause: find(/\/pause$/),
    etcd: find(/\/etcd$/),
  };
}

export function tagOf(image: string): string {
  return image.slice(image.lastIndexOf(':') + 1);
}


export interface BuiltImage {
  name: string;
  archive: string;
}

export interface ImageSet {
  images: BuiltImage[];
  localPath: string;
  helper: string;
}

export const LOCAL_PATH_IMAGE = (version: string) => `stackport.local/local-path-provisioner:${version}`;

/** Debian's busybox-static, as the version it reports. */
export async function busyboxVersion(): Promise<string> {
  const r = await run(['busybox'], { what: 'busybox (apt-get install busybox-static)' }).catch((e: unknown) => {
    throw new StackportError('busybox-static is not installed', { hint: 'apt-get install busybox-static', cause: e });
  });
  return /BusyBox v([\d.]+)/.exec(r.stdout + r.stderr)?.[1] ?? 'latest';
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/**
 * Builds every image the cluster needs as archives in the cache (once): the control plane and
 * etcd FROM scratch with the binary on PATH (static pods run bare command names), CoreDNS with
 * /coredns as entrypoint, pause, kube-proxy on the Debian base (iptables), local-path-provisioner
 * and its busybox helper.
 */
export async function buildImages(cache: CacheLayout, list: KubeadmImages, localPathVersion: string, progress: Progress): Promise<ImageSet> {
  const bin = (n: string) => cache.binary(n);
  const busybox = `stackport.local/busybox:${await busyboxVersion()}`;
  const localPath = LOCAL_PATH_IMAGE(localPathVersion);
  const work = join(cache.root, 'work');
  const images: BuiltImage[] = [];
  const file = (name: string) => cache.imageArchive(`${name.replace(/[/:]/g, '_')}.tar`);

  const scratch = async (name: string, files: Record<string, string>, config: ImageConfig, symlinks?: Record<string, string>) => {
    const out = file(name);
    images.push({ name, archive: out });
    if (await exists(out)) return;
    await progress.step(`image ${name}`, async () => {
      const root = join(work, 'rootfs');
      await scratchRootfs(root, files, symlinks);
      const layer = join(work, 'layer.tar');
      await layerFromDir(root, layer);
      await writeImageArchive({ tags: [name], layers: [layer], config }, out);
      await rm(root, { recursive: true, force: true });
      await rm(layer, { force: true });
    });
  };

  await mkdir(work, { recursive: true });
  for (const [image, binary] of [
    [list.apiserver, 'kube-apiserver'],
    [list.controllerManager, 'kube-controller-manager'],
    [list.scheduler, 'kube-scheduler'],
    [list.etcd, 'etcd'],
  ] as const) {
    await scratch(image, { [`usr/local/bin/${binary}`]: bin(binary) }, { Env: [DEFAULT_PATH] });
  }
  await scratch(list.coredns, { coredns: bin('coredns') }, { Entrypoint: ['/coredns'] });

  if (!(await exists(file(list.pause)))) {
    await progress.step('compile pause', () => buildPause(join(work, 'pause-src'), bin('pause')));
  }
  await scratch(list.pause, { pause: bin('pause') }, { Entrypoint: ['/pause'] });

  await scratch(localPath, { 'usr/bin/local-path-provisioner': bin('local-path-provisioner') }, {});

  // busybox: the local-path helper (needs sh, mkdir, rm) and a small image for tests
  const applets = (await run(['busybox', '--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  await scratch(busybox, { 'bin/busybox': '/bin/busybox' }, { Cmd: ['sh'] }, Object.fromEntries(applets.map((a) => [`bin/${a}`, 'busybox'])));

  const proxyOut = file(list.proxy);
  images.push({ name: list.proxy, archive: proxyOut });
  if (!(await exists(proxyOut))) {
    await progress.step('debian base (debootstrap)', () => buildDebianBase(cache.debianRootfs, KUBE_PROXY_PACKAGES, cache.logs));
    await progress.step(`image ${list.proxy}`, async () => {
      const root = join(work, 'proxy-rootfs');
      await rm(root, { recursive: true, force: true });
      await mkdir(join(root, 'usr/local/bin'), { recursive: true });
      await run(['cp', bin('kube-proxy'), join(root, 'usr/local/bin/kube-proxy')]);
      const layer = join(work, 'proxy-layer.tar');
      await layerFromDir(root, layer);
      await writeImageArchive({ tags: [list.proxy], layers: [cache.debianRootfs, layer], config: { Env: [DEFAULT_PATH] } }, proxyOut);
      await rm(root, { recursive: true, force: true });
      await rm(layer, { force: true });
    });
  }
  const set: ImageSet = { images, localPath, helper: busybox };
  await writeFile(join(cache.images, 'images.json'), JSON.stringify(set, null, 2));
  return set;
}

export async function readImageSet(cache: CacheLayout): Promise<ImageSet | undefined> {
  try {
    return JSON.parse(await readFile(join(cache.images, 'images.json'), 'utf8')) as ImageSet;
  } catch {
    return undefined;
  }
}
