import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probe, run } from '../../exec/run.js';
import { StackportError } from '../../errors.js';
import { ensurePrivilegedRuntime } from '../../engine/runtime-wrapper.js';
import type { Progress } from '../../ui/progress.js';
import type { CacheLayout } from './cache.js';
import { buildDebianBase } from './debian-base.js';
import type { ImageSet } from './images.js';
import type { KindCache } from './kind-cli.js';
import { NETWORK_SCRIPT, networkDockerfile, networkManifest } from './kind-network.js';
import { localPathManifests } from '../addons/local-path.js';

/**
 * A kind node image assembled without a registry, laid out like kind's own (images/base +
 * `kind build node-image`, kind v0.30.0):
 *  - base: Debian bookworm by debootstrap with kind's package list (systemd, iptables, …, runc),
 *    kind's files/ tree (entrypoint, containerd and kubelet units, kubeadm drop-ins, /kind/bin),
 *    `ENV container=docker`, `STOPSIGNAL SIGRTMIN+3`, entrypoint `/usr/local/bin/entrypoint /sbin/init`;
 *  - node: kubeadm/kubelet/kubectl in /usr/bin, containerd 2.1.9 + shim + ctr in /usr/local/bin, CNI
 *    plugins in /opt/cni/bin, /kind/version, /kind/manifests/default-{cni,storage}.yaml, and every
 *    image the kubeadm provider builds imported into containerd's k8s.io namespace (pinned), so
 *    nothing is ever pulled.
 * Two changes from upstream, both needed on this host: containerd's CRI runs with
 * restrict_oom_score_adj = true (no CAP_SYS_RESOURCE) and sandbox_image is our pause:3.10.1.
 * Cached as a Docker image whose label stackport.node-key is a hash of all inputs.
 */
export const NODE_IMAGE_REPO = 'stackport.local/kind-node';
export const NODE_PACKAGES = [
  'systemd', 'conntrack', 'iptables', 'nftables', 'iproute2', 'ethtool', 'util-linux', 'mount', 'kmod',
  'libseccomp2', 'pigz', 'bash', 'ca-certificates', 'curl', 'jq', 'procps', 'runc', 'dbus',
];

export interface NodeImageInput {
  k8sVersion: string;
  kindVersion: string;
  kubeadmCache: CacheLayout;
  images: ImageSet;
  kindCache: KindCache;
  /** GOMODCACHE copy of sigs.k8s.io/kind@<version> (its images/base/files tree) */
  kindModuleDir: string;
}

export function nodeImageName(k8sVersion: string): string {
  return `${NODE_IMAGE_REPO}:${k8sVersion}`;
}

const NODE_DOCKERFILE = (base: string, k8sVersion: string) => `FROM ${base}
COPY files/ /
COPY usr-bin/ /usr/bin/
COPY usr-local-bin/ /usr/local/bin/
COPY cni/ /opt/cni/bin/
COPY manifests/ /kind/manifests/
RUN chmod 755 /kind/bin /kind/bin/* /usr/local/bin/* /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl /opt/cni/bin/* \\
 && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \\
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* /lib/systemd/system/local-fs.target.wants/* \\
    /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \\
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
 && ln -sf /lib/systemd/systemd /sbin/init \\
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \\
 && systemctl mask systemd-binfmt.service \\
 && mkdir -p /etc/kubernetes/manifests \\
 && sed -i -e 's|sandbox_image = .*|sandbox_image = "registry.k8s.io/pause:3.10.1"|' \\
       -e 's|restrict_oom_score_adj = false|restrict_oom_score_adj = true|' /etc/containerd/config.toml \\
 && ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \\
    | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \\
 && echo "${k8sVersion}" > /kind/version
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
`;

/** Imports every archive under /images into containerd (k8s.io, pinned, not unpacked: like kind). */
const PRELOAD_SCRIPT = `set -e
containerd --config /etc/containerd/config.toml >/tmp/containerd.log 2>&1 &
pid=$!
i=0; until ctr version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || { cat /tmp/containerd.log; exit 1; }; sleep 0.2; done
for f in /images/*.tar /extra/*.tar; do
  [ -f "$f" ] || continue
  ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - < "$f" >/dev/null
  echo "imported $f"
done
ctr --namespace=k8s.io images ls -q
kill $pid; wait $pid || true
rm -rf /tmp/* /run/containerd
`;

async function imageLabel(image: string, label: string): Promise<string | undefined> {
  const r = await probe(['docker', 'image', 'inspect', '--format', `{{ index .Config.Labels "${label}" }}`, image]);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function nodeImageKey(input: NodeImageInput): Promise<string> {
  const h = createHash('sha256');
  h.update(NODE_DOCKERFILE('base', input.k8sVersion)).update(PRELOAD_SCRIPT).update(NETWORK_SCRIPT).update(NODE_PACKAGES.join(','));
  h.update(input.kindVersion).update(JSON.stringify(input.images));
  return h.digest('hex').slice(0, 16);
}

/** Builds the node image unless an image with the same key exists; returns its name. */
export async function ensureNodeImage(input: NodeImageInput, progress: Progress): Promise<string> {
  const name = nodeImageName(input.k8sVersion);
  const key = await nodeImageKey(input);
  if ((await imageLabel(name, 'stackport.node-key')) === key) return name;

  await ensurePrivilegedRuntime(progress);
  const ctx = input.kindCache.nodeDir;
  const log = join(input.kindCache.logs, 'node-image.log');
  await mkdir(input.kindCache.logs, { recursive: true });
  const onOutput = (c: string) => void writeFile(log, c, { flag: 'a' });

  const base = `stackport.local/kind-base:bookworm-${createHash('sha256').update(NODE_PACKAGES.join(',')).digest('hex').slice(0, 12)}`;
  if ((await imageLabel(base, 'stackport.base')) === undefined) {
    await progress.step('kind node: debian base (debootstrap + systemd)', () => buildDebianBase(input.kindCache.rootfs, NODE_PACKAGES, input.kindCache.logs, onOutput));
    await progress.step('kind node: docker import base', () =>
      run(['docker', 'import', '--change', 'LABEL stackport.base=1', input.kindCache.rootfs, base], { what: 'docker import (kind base)' }),
    );
  }

  // the network daemon's image: kube-proxy's Debian image + kubectl + the script
  const kubeProxy = input.images.images.find((i) => i.name.includes('/kube-proxy:'));
  if (!kubeProxy) throw new StackportError('the kubeadm image set has no kube-proxy image', { hint: 'run `npx zx scripts/cluster.mjs build --provider kubeadm`' });
  const netImage = `stackport.local/stackport-net:${input.k8sVersion}`;
  const extra = join(ctx, 'extra-images');
  await progress.step('kind node: network image', async () => {
    const dir = join(ctx, 'net');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await run(['docker', 'load', '-i', kubeProxy.archive], { what: 'docker load kube-proxy' });
    await cp(input.kubeadmCache.binary('kubectl'), join(dir, 'kubectl'));
    await writeFile(join(dir, 'stackport-net'), NETWORK_SCRIPT, { mode: 0o755 });
    await writeFile(join(dir, 'Dockerfile'), networkDockerfile(kubeProxy.name));
    await run(['docker', 'build', '-q', '-t', netImage, dir], { what: 'docker build stackport-net', env: { ...process.env, DOCKER_BUILDKIT: '0' }, onOutput });
    await mkdir(extra, { recursive: true });
    await run(['docker', 'save', '-o', join(extra, 'stackport-net.tar'), netImage], { what: 'docker save stackport-net' });
  });

  await progress.step('kind node: assemble', async () => {
    for (const d of ['files', 'usr-bin', 'usr-local-bin', 'cni', 'manifests']) {
      await rm(join(ctx, d), { recursive: true, force: true });
      await mkdir(join(ctx, d), { recursive: true });
    }
    await cp(join(input.kindModuleDir, 'images', 'base', 'files'), join(ctx, 'files'), { recursive: true });
    await run(['chmod', '-R', 'u+w', join(ctx, 'files')]);
    await rm(join(ctx, 'files', 'LICENSES'), { recursive: true, force: true });
    for (const b of ['kubeadm', 'kubelet', 'kubectl']) await cp(input.kubeadmCache.binary(b), join(ctx, 'usr-bin', b));
    for (const b of ['containerd', 'containerd-shim-runc-v2', 'ctr']) await cp(input.kubeadmCache.binary(b), join(ctx, 'usr-local-bin', b));
    await cp(input.kubeadmCache.cniBin, join(ctx, 'cni'), { recursive: true });
    // kind templates default-cni.yaml ({{ .PodSubnet }}); ours has no template fields
    await writeFile(join(ctx, 'manifests', 'default-cni.yaml'), networkManifest(netImage));
    await writeFile(join(ctx, 'manifests', 'default-storage.yaml'), localPathManifests(input.images.localPath, input.images.helper));
    await writeFile(join(ctx, 'Dockerfile'), NODE_DOCKERFILE(base, input.k8sVersion));
    await run(['docker', 'build', '-t', `${name}-stage`, ctx], { what: 'docker build kind node', env: { ...process.env, DOCKER_BUILDKIT: '0' }, onOutput, timeoutMs: 20 * 60_000 });
  });

  await progress.step('kind node: preload images into containerd', async () => {
    const c = `stackport-kind-node-build-${process.pid}`;
    await probe(['docker', 'rm', '-f', c]);
    try {
      const r = await run(
        ['docker', 'run', '--name', c, '--privileged', '--entrypoint', '/bin/sh',
          '-v', `${input.kubeadmCache.images}:/images:ro`, '-v', `${extra}:/extra:ro`,
          `${name}-stage`, '-c', PRELOAD_SCRIPT],
        { what: 'preload images into the node image', onOutput, timeoutMs: 20 * 60_000 },
      );
      const imported = r.stdout.split('\n').filter((l) => l.startsWith('imported')).length;
      if (imported < input.images.images.length + 1) throw new StackportError(`only ${imported} image archives were imported into the node image`, { details: r.stdout });
      await run(
        ['docker', 'commit', '--change', 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]', '--change', 'CMD []',
          '--change', `LABEL stackport.node-key=${key}`, c, name],
        { what: 'docker commit kind node' },
      );
    } finally {
      await probe(['docker', 'rm', '-f', c]);
      await probe(['docker', 'rmi', `${name}-stage`]);
    }
  });
  await chmod(ctx, 0o755);
  return name;
}

/** Where Go keeps sigs.k8s.io/kind@version (downloaded when the CLI was built). */
export async function kindModuleDir(version: string, cwd: string): Promise<string> {
  const r = await run(['go', 'list', '-m', '-f', '{{.Dir}}', `sigs.k8s.io/kind@${version}`], { cwd, env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local' }, what: 'go list kind module' });
  const dir = r.stdout.trim();
  await readFile(join(dir, 'images', 'base', 'files', 'usr', 'local', 'bin', 'entrypoint'), 'utf8');
  return dir;
}
