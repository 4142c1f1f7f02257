import { stringify } from 'yaml';
import { HOST } from '../build/cache.js';
import { POD_SUBNET, SERVICE_SUBNET } from '../host/cni.js';

export interface KubeadmConfigInput {
  kubernetesVersion: string;
  nodeName: string;
  nodeIp: string;
}

/**
 * Preflight errors ignored, each for a reason that holds on hosts without systemd:
 * - SystemVerification: cgroup v1 is "maintenance mode" for 1.34 and a missing hugetlb controller
 *   is reported; neither matters for this cluster (the kubelet runs fine on cgroup v1, see
 *   failCgroupV1 below). It is a warning on most hosts; ignoring keeps a future error from
 *   blocking a host that we already know works.
 * - Service-Kubelet: `systemctl` exists but systemd is not PID 1, so kubeadm cannot see a kubelet
 *   unit; our supervisor (kubelet-supervisor.ts) is the kubelet's service manager.
 * Never ignored: Port-*, FileAvailable-*, DirAvailable-* (stale state is reset before init).
 */
export const IGNORED_PREFLIGHT = ['SystemVerification', 'Service-Kubelet'];

/** kubeadm's patches directory (`patches.directory`): files named `<target>+<patchtype>.yaml`. */
export const KUBEADM_PATCHES_DIR = '/var/lib/stackport/kubeadm-patches';

/**
 * kubeadm's own CoreDNS Deployment (addon phase), patched for a fast `up` on one node:
 * - one replica (minikube runs one too): on a single node a second copy adds start-up work on
 *   the same cores and no availability;
 * - readiness every second instead of kubeadm's default 10 s: the kube-dns Service gets its
 *   endpoint (and DNS answers) within a second of CoreDNS being ready, not up to 10 s later;
 * - the API server directly at the node's address (KUBERNETES_SERVICE_HOST/PORT), not through the
 *   `kubernetes` ClusterIP, which answers only once kube-proxy has programmed it (local-path.ts).
 */
export function kubeadmPatches(i: Pick<KubeadmConfigInput, 'nodeIp'>): Record<string, string> {
  const coredns = {
    spec: {
      replicas: 1,
      template: {
        spec: {
          containers: [
            {
              name: 'coredns',
              env: [
                { name: 'KUBERNETES_SERVICE_HOST', value: i.nodeIp },
                { name: 'KUBERNETES_SERVICE_PORT', value: '6443' },
              ],
              readinessProbe: { periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
  return { 'corednsdeployment+strategic.yaml': stringify(coredns) };
}

export function kubeadmConfig(i: KubeadmConfigInput): string {
  const init = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'InitConfiguration',
    localAPIEndpoint: { advertiseAddress: i.nodeIp, bindPort: 6443 },
    nodeRegistration: {
      name: i.nodeName,
      criSocket: `unix://${HOST.containerdSocket}`,
      // nothing can be pulled: every image is imported into containerd beforehand
      imagePullPolicy: 'Never',
      ignorePreflightErrors: IGNORED_PREFLIGHT,
      kubeletExtraArgs: [{ name: 'node-ip', value: i.nodeIp }],
      taints: [],
    },
    timeouts: { controlPlaneComponentHealthCheck: '4m0s', kubeletHealthCheck: '4m0s' },
    patches: { directory: KUBEADM_PATCHES_DIR },
  };
  const cluster = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    // explicit: the default (stable-1) is an internet lookup
    kubernetesVersion: i.kubernetesVersion,
    clusterName: 'stackport',
    controlPlaneEndpoint: `${i.nodeIp}:6443`,
    networking: { podSubnet: POD_SUBNET, serviceSubnet: SERVICE_SUBNET, dnsDomain: 'cluster.local' },
    apiServer: { certSANs: ['127.0.0.1', 'localhost', i.nodeIp] },
    // One control plane: no leader election. With it, a controller-manager and scheduler started
    // after a reboot wait for the lease of their killed predecessors to expire (15 s) before any
    // controller runs: no endpoint for the restarted CoreDNS, no pod for a new Deployment.
    controllerManager: { extraArgs: [{ name: 'leader-elect', value: 'false' }] },
    scheduler: { extraArgs: [{ name: 'leader-elect', value: 'false' }] },
    // ECDSA keys: generating the ~12 keys of init (CAs, serving and client certificates, the
    // kubeconfigs, the service-account key) took 2.5 s with RSA-2048 on two shared cores
    encryptionAlgorithm: 'ECDSA-P256',
  };
  const kubelet = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // no systemd: cgroupfs, like containerd's SystemdCgroup = false
    cgroupDriver: 'cgroupfs',
    // this host has cgroup v1; 1.35 would refuse it unless this is false
    failCgroupV1: false,
    failSwapOn: false,
    // locally imported images cannot be pulled again: never garbage-collect them
    imageGCHighThresholdPercent: 100,
    // a developer disk is often fuller than a server's: do not evict or taint on disk usage
    evictionHard: { 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
  };
  const proxy = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    // no IPVS in this kernel; iptables is the tested mode
    mode: 'iptables',
    // leave the host's conntrack table size alone (writing it may be refused in a VM)
    conntrack: { maxPerCore: 0 },
  };
  return [init, cluster, kubelet, proxy].map((d) => stringify(d)).join('---\n');
}
