/**
 * Every program stackport spawns (src/ and scripts/), and where each comes from on a brand-new
 * machine. A program is either installed by stackport itself (`installedBy`: the apt packages of
 * the cluster host or of the engine, a binary we build, the Node.js dependencies), part of a
 * Debian system (`essential`: Debian's Essential/required set, present on every install), the
 * machine's own toolchain (`machine`), or optional: then the code checks for it and says what to
 * do (`whenMissing`). docs/programs.md is the same list for people; tests/unit/programs.test.ts
 * scans the sources for spawned programs and fails on one that is not listed here, and checks
 * each `installedBy` claim against the installer's own list.
 */
export type ProgramSource =
  /** src/cluster/host/packages.ts HOST_COMMANDS (kubeadm and kind create; `up` of either provider) */
  | { installedBy: 'cluster-host-packages'; pkg: string }
  /** src/engine/engine.ts ENGINE_PACKAGES (ensureEngine, when no engine answers) */
  | { installedBy: 'engine'; pkg: string }
  /** another apt install of ours: debootstrap (engine/images.ts), docker-compose v1 (engine/compose-cli.ts) */
  | { installedBy: 'apt-on-demand'; pkg: string; where: string }
  /** built from a Go module into a cache (cluster/build/components.ts, kind-cli.ts, engine/compose-build.ts, …) */
  | { installedBy: 'built'; where: string }
  /** Debian's essential/required packages: on every Debian system, never missing */
  | { essential: string }
  /** the machine's own: Node.js running us, the Go toolchain of this machine kind, apt itself */
  | { machine: string; whenMissing: string }
  /** used when there; the code checks first and this is what it says or does when missing */
  | { optional: true; pkg?: string; whenMissing: string }
  /** not on the host: inside an app's image (the generated wait init containers), looked up with `command -v` */
  | { inContainer: true; whenMissing: string };

export interface Program {
  /** what it is used for */
  use: string;
  source: ProgramSource;
}

export const PROGRAMS: Record<string, Program> = {
  // --- the Docker engine and Compose
  docker: { use: 'the Docker CLI: images, containers, save/load, inspect', source: { installedBy: 'engine', pkg: 'docker.io' } },
  dockerd: { use: 'the Docker engine, started when none answers', source: { installedBy: 'engine', pkg: 'docker.io' } },
  'docker-compose': {
    use: 'Compose v1, the fallback when no Compose v2 plugin is there',
    source: { installedBy: 'apt-on-demand', pkg: 'docker-compose', where: 'src/engine/compose-cli.ts' },
  },
  runc: { use: 'the OCI runtime of our containerd, and the real runc behind the runtime wrapper', source: { installedBy: 'cluster-host-packages', pkg: 'runc' } },
  // --- cluster host
  iptables: { use: 'our FORWARD accept chain, cleanup of KUBE-/CNI-/STACKPORT- chains; the kubelet and kube-proxy checks', source: { installedBy: 'cluster-host-packages', pkg: 'iptables' } },
  'iptables-restore': { use: 'the host chains STACKPORT-SERVICES and STACKPORT-FORWARD, written in one transaction', source: { installedBy: 'cluster-host-packages', pkg: 'iptables' } },
  'iptables-save': { use: 'metrics-server add-on: waits until kube-proxy has a rule for its ClusterIP', source: { installedBy: 'cluster-host-packages', pkg: 'iptables' } },
  ip6tables: { use: 'cleanup of the same chains for IPv6', source: { installedBy: 'cluster-host-packages', pkg: 'iptables' } },
  nft: { use: "cleanup of kube-proxy's nftables tables", source: { installedBy: 'cluster-host-packages', pkg: 'nftables' } },
  ipset: { use: "cleanup of the policy engine's (kube-router) ipsets on the host", source: { installedBy: 'cluster-host-packages', pkg: 'ipset' } },
  ip: { use: 'node address, links (cni0), routes', source: { installedBy: 'cluster-host-packages', pkg: 'iproute2' } },
  ss: { use: 'names the process holding a taken port (make up)', source: { optional: true, pkg: 'iproute2', whenMissing: 'the "port taken" error names no holder' } },
  socat: { use: 'the app entry forwarder 127.0.0.1:8090 → NodePort', source: { installedBy: 'cluster-host-packages', pkg: 'socat' } },
  umount: { use: 'cleanup of mounts under /var/lib/kubelet and our state dirs', source: { essential: 'mount' } },
  debootstrap: { use: 'the Debian base layer of kube-proxy, kube-router, the kind node and the drop-in images', source: { installedBy: 'cluster-host-packages', pkg: 'debootstrap' } },
  busybox: { use: 'the local-path helper image and the test image', source: { installedBy: 'cluster-host-packages', pkg: 'busybox-static' } },
  gcc: { use: 'compiles pause (static)', source: { installedBy: 'cluster-host-packages', pkg: 'gcc' } },
  strip: { use: 'strips pause', source: { installedBy: 'cluster-host-packages', pkg: 'binutils' } },
  tar: { use: 'packs image layers', source: { installedBy: 'cluster-host-packages', pkg: 'tar' } },
  'dpkg-deb': { use: 'unpacks ipset into the kube-router image', source: { essential: 'dpkg' } },
  'apt-get': { use: 'installs the packages above; downloads ipset for the kube-router image', source: { machine: 'apt (Debian)', whenMissing: 'packages missing are named, with "install them with your package manager"' } },
  cp: { use: 'copies binaries into image roots', source: { essential: 'coreutils' } },
  mv: { use: 'moves build outputs', source: { essential: 'coreutils' } },
  chmod: { use: 'file modes of the kind node build context', source: { essential: 'coreutils' } },
  sh: { use: 'small shell commands (bench: is kompose there?)', source: { essential: 'dash' } },
  '/bin/bash': { use: 'the kubelet supervisor loop', source: { essential: 'bash' } },
  go: {
    use: 'builds Compose v2, Kubernetes, etcd, CoreDNS, containerd, CNI, local-path, metrics-server, kube-router, kind, the runc wrapper',
    source: { machine: 'the Go toolchain of this machine kind (/usr/local/go)', whenMissing: '"the Go toolchain (go) is not on PATH" with the version to install; Compose falls back to v1' },
  },
  // --- built by us (a path in a cache, never looked up on PATH)
  kubectl: { use: 'every cluster operation (the matching 1.34 build; PATH only for a user-supplied cluster)', source: { installedBy: 'built', where: 'kubeadm-v1.34.4/bin' } },
  kubeadm: { use: 'init, reset, images list', source: { installedBy: 'built', where: 'kubeadm-v1.34.4/bin' } },
  kubelet: { use: 'run by the kubelet supervisor', source: { installedBy: 'built', where: 'kubeadm-v1.34.4/bin' } },
  containerd: { use: "the cluster's container runtime", source: { installedBy: 'built', where: 'kubeadm-v1.34.4/bin' } },
  ctr: { use: 'image import and listing in our containerd', source: { installedBy: 'built', where: 'kubeadm-v1.34.4/bin' } },
  kind: { use: 'the kind provider', source: { installedBy: 'built', where: 'kind-v0.30.0/bin' } },
  'docker compose': { use: 'Compose v2 (CLI plugin)', source: { installedBy: 'built', where: 'compose-v2.35.0 (engine/compose-build.ts)' } },
  // --- the runtime running us
  node: { use: 'runs the scripts and tests', source: { machine: 'Node.js 20+', whenMissing: 'nothing runs without it (README: set-up)' } },
  npx: { use: 'tsc and jest from node_modules (scripts/test.mjs)', source: { machine: 'npm, with Node.js', whenMissing: 'make test fails at once' } },
  // --- optional
  '/usr/bin/time': { use: 'peak memory in make bench-generate', source: { optional: true, pkg: 'time', whenMissing: 'bench-generate says "apt-get install time" and stops (exit 2)' } },
  // --- inside the app's images (src/k8s/wait.ts: the wait-for-dependency init containers)
  nc: { use: 'wait script: nc -z (or busybox nc under timeout)', source: { inContainer: true, whenMissing: 'the next way is tried: /dev/tcp, bash, curl' } },
  bash: { use: "wait script: bash's /dev/tcp when sh is not bash", source: { inContainer: true, whenMissing: 'the next way is tried: nc with timeout, curl' } },
  timeout: { use: 'wait script: bounds busybox nc', source: { inContainer: true, whenMissing: 'that way is skipped; curl is tried' } },
  'mariadb': { use: "data move: restores the MariaDB dump in the cluster's server", source: { inContainer: true, whenMissing: "the data step fails naming the volume and the command's output; Compose keeps running" } },
  'mariadb-dump': { use: "data move: dumps the Compose MariaDB", source: { inContainer: true, whenMissing: "the data step fails naming the volume and the command's output; Compose keeps running" } },
  'mysql': { use: "data move: restores a MySQL dump (images without the mariadb names)", source: { inContainer: true, whenMissing: "the data step fails naming the volume and the command's output; Compose keeps running" } },
  'mysqldump': { use: "data move: dumps a Compose MySQL", source: { inContainer: true, whenMissing: "the data step fails naming the volume and the command's output; Compose keeps running" } },
  curl: { use: 'wait script: the last way to see a listener', source: { inContainer: true, whenMissing: 'no way is left and the init container keeps waiting: pick an image that has one (generate --wait-image, e.g. busybox)' } },
  kompose: { use: 'side-by-side figures in make bench-generate (KOMPOSE=<path>)', source: { optional: true, whenMissing: 'the kompose columns are left out' } },
};
