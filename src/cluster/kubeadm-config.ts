import { stringify } from 'yaml';
import { HOST } from './cache.js';
import { POD_SUBNET, SERVICE_SUBNET } from './cni.js';

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
