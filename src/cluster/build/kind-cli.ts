import { join } from 'node:path';
import { clusterCacheBase, VersionedCache } from './cache.js';
import type { GoComponent } from './go-build.js';
import { buildGoComponent } from './go-build.js';
import type { Progress } from '../../ui/progress.js';

/**
 * The kind side of the cache: the kind CLI, pinned to the release whose default node image is our
 * Kubernetes minor (v0.30.0 ↔ 1.34), and the node image's build context.
 *   ${STACKPORT_CACHE:-~/.cache/stackport}/kind-v0.30.0/{bin,src,logs,node/,rootfs/}
 * kindnetd is not built: it is a nested module of the kind repo without tags, and the Go module
 * proxy refuses its pseudo-versions (403), so the node image carries its own small network
 * daemon instead (kind-network.ts).
 */
export const KIND_VERSION = 'v0.30.0';

export class KindCache extends VersionedCache {
  constructor(readonly kindVersion = KIND_VERSION, base = clusterCacheBase()) {
    super(base, `kind-${kindVersion}`);
  }
  get srcDir(): string {
    return join(this.root, 'src');
  }
  get kind(): string {
    return join(this.bin, 'kind');
  }
  /** build context of the node image (and its stamp) */
  get nodeDir(): string {
    return join(this.root, 'node');
  }
  get rootfs(): string {
    return join(this.root, 'rootfs', 'node-bookworm.tar');
  }
}

export function kindComponent(version = KIND_VERSION): GoComponent {
  return {
    name: 'kind',
    module: 'sigs.k8s.io/kind',
    version,
    go: '1.17',
    programs: [{ pkg: 'sigs.k8s.io/kind', out: 'kind' }],
  };
}

/** The kind CLI, from its module (cached by version under kind-<version>/bin). */
export async function buildKindCli(cache: KindCache, progress: Progress): Promise<string> {
  await buildGoComponent(kindComponent(cache.kindVersion), { srcDir: cache.srcDir, binDir: cache.bin, logDir: cache.logs, progress, label: 'kind' });
  return cache.kind;
}
