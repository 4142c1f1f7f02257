import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * ${STACKPORT_CACHE:-~/.cache/stackport}. Unlike engine/cache.ts's cacheRoot this reads no
 * XDG_CACHE_HOME and resolves nothing: the built Kubernetes and kind trees stay where they are.
 */
export function clusterCacheBase(): string {
  return process.env.STACKPORT_CACHE || join(homedir(), '.cache', 'stackport');
}

/** One version's directory under the cache base, with the bin/ and logs/ of its Go builds. */
export abstract class VersionedCache {
  readonly root: string;
  protected constructor(base: string, dir: string) {
    this.root = join(base, dir);
  }
  get bin(): string {
    return join(this.root, 'bin');
  }
  get logs(): string {
    return join(this.root, 'logs');
  }
}

/**
 * Where heavy, reusable things live. Keyed by the Kubernetes version so two releases never mix:
 *   ${STACKPORT_CACHE:-~/.cache/stackport}/kubeadm-v1.34.4/
 *     src/<component>/   wrapper Go modules (go.mod, tools.go)
 *     bin/               built binaries (kubeadm, kubelet, …, etcd, coredns, containerd, ctr, …)
 *     cni/               CNI plugin binaries (containerd's bin_dir)
 *     images/            image archives (docker-save format) + images.json (name → archive)
 *     rootfs/            debootstrap'd Debian base (tarball) for images that need tools
 *     logs/              build logs
 * The Go build and module caches stay where Go keeps them (GOCACHE, GOMODCACHE).
 */
export class CacheLayout extends VersionedCache {
  constructor(readonly k8sVersion: string, base = clusterCacheBase()) {
    super(base, `kubeadm-${k8sVersion}`);
  }
  get cniBin(): string {
    return join(this.root, 'cni');
  }
  get images(): string {
    return join(this.root, 'images');
  }
  src(component: string): string {
    return join(this.root, 'src', component);
  }
  binary(name: string): string {
    return join(this.bin, name);
  }
  imageArchive(file: string): string {
    return join(this.images, file);
  }
  get debianRootfs(): string {
    return join(this.root, 'rootfs', 'debian-bookworm.tar');
  }
}

/**
 * Host paths the running cluster owns (outside the cache, outside the repo). Fixed, so `down`
 * can find a cluster that a killed `up` left behind.
 */
export const HOST = {
  /** pid files, containerd state and socket (tmpfs: gone after a reboot, like the processes). */
  run: '/run/stackport',
  containerdSocket: '/run/stackport/containerd/containerd.sock',
  containerdState: '/run/stackport/containerd',
  /** persistent data: containerd root (image store), CNI config and IPAM state, local volumes. */
  lib: '/var/lib/stackport',
  containerdRoot: '/var/lib/stackport/containerd',
  containerdConfig: '/var/lib/stackport/containerd.toml',
  cniConfDir: '/var/lib/stackport/cni/net.d',
  cniDataDir: '/var/lib/stackport/cni/networks',
  kubeadmConfig: '/var/lib/stackport/kubeadm.yaml',
  kubeletSupervisor: '/var/lib/stackport/kubelet-supervisor.sh',
  state: '/var/lib/stackport/state.json',
  localVolumes: '/var/lib/stackport/local-path',
} as const;

export function pidFile(name: string): string {
  return join(HOST.run, `${name}.pid`);
}
