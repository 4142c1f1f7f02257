import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../exec/run.js';
import type { Progress } from '../../ui/progress.js';
import { CacheLayout } from './cache.js';
import { cniComponent, containerdComponent, kubernetesComponent, localPathComponent } from './components.js';
import { corednsComponent } from './coredns.js';
import { etcdComponent, etcdModuleVersion } from './etcd.js';
import { buildGoComponent } from './go-build.js';
import { buildImages, parseImagesList, tagOf, type ImageSet, type KubeadmImages } from './images.js';
import { CNI_PLUGINS_VERSION, CONTAINERD_VERSION, KUBERNETES_VERSION, LOCAL_PATH_VERSION } from './versions.js';

/** What a cluster of one Kubernetes release runs: kubeadm's image list and the image archives. */
export interface ClusterBuild {
  list: KubeadmImages;
  images: ImageSet;
}

/**
 * Builds (once, cached by version) every binary and image archive the cluster runs: Kubernetes,
 * etcd, CoreDNS, the CNI plugins, containerd and local-path from their Go modules, then the
 * images. The kubeadm provider runs it in `up` (action `build`), the kind provider for its node
 * image, `make prepare` ahead of both.
 */
export async function buildCluster(progress: Progress, version = KUBERNETES_VERSION): Promise<ClusterBuild> {
  const cache = new CacheLayout(version);
  const o = { srcDir: join(cache.root, 'src'), binDir: cache.bin, logDir: cache.logs, progress };
  await buildGoComponent(kubernetesComponent(version), { ...o, label: 'kubernetes' });
  const listFile = join(cache.root, 'images-list.txt');
  let listText = await readFile(listFile, 'utf8').catch(() => '');
  if (!listText) {
    listText = (await run([cache.binary('kubeadm'), 'config', 'images', 'list', '--kubernetes-version', version], { what: 'kubeadm config images list' })).stdout;
    await writeFile(listFile, listText);
  }
  const list = parseImagesList(listText);
  await buildGoComponent(etcdComponent(etcdModuleVersion(tagOf(list.etcd))), o);
  await buildGoComponent(corednsComponent(tagOf(list.coredns)), o);
  await buildGoComponent(cniComponent(CNI_PLUGINS_VERSION), { ...o, binDir: cache.cniBin });
  await buildGoComponent(containerdComponent(CONTAINERD_VERSION), o);
  await buildGoComponent(localPathComponent(LOCAL_PATH_VERSION), o);
  const images = await buildImages(cache, list, LOCAL_PATH_VERSION, progress);
  return { list, images };
}
