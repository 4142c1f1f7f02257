import { stringify } from 'yaml';

/**
 * The node image's pod network, in place of kindnetd (whose module the proxy will not serve):
 * a DaemonSet on every node (host network) that reads the nodes' podCIDRs (allocated by the
 * controller manager from kind's podSubnet), writes this node's CNI config (bridge + host-local
 * on its own podCIDR + portmap, the plugins the kubeadm provider already builds) and routes every
 * other node's podCIDR via that node's InternalIP on kind's Docker network. Traffic that leaves
 * the cluster's pod range is masqueraded (one POSTROUTING rule per node, as kindnetd does);
 * pod-to-pod traffic across nodes keeps its pod source address. (The bridge plugin's own ipMasq
 * would SNAT it to the node's address too, since it spares only the node's own /24: a
 * NetworkPolicy engine then sees a node, not the web pod, and refuses web -> api whenever they
 * run on different nodes.) It runs the kube-proxy image (Debian,
 * iptables, iproute2) plus the matching kubectl; NetworkPolicy is not enforced (neither would
 * kindnetd's engine be on this kernel: no NFT_QUEUE).
 */
export const NETWORK_NAME = 'stackport-net';

export const NETWORK_SCRIPT = `#!/bin/sh
# stackport-net: CNI config for this node, routes to the other nodes' pod ranges.
set -u
conf=/etc/cni/net.d/10-stackport.conflist
# the cluster's pod range (kind's default podSubnet): only traffic leaving it is masqueraded
cluster=\${POD_SUBNET:-10.244.0.0/16}
while true; do
  if kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.podCIDR}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}' >/tmp/nodes 2>/tmp/err; then
    while read -r name cidr ip; do
      [ -n "$cidr" ] && [ -n "$ip" ] || continue
      if [ "$name" = "$NODE_NAME" ]; then
        printf '%s\\n' '{"cniVersion":"1.0.0","name":"stackport","plugins":[{"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":false,"hairpinMode":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"'"$cidr"'"}]],"routes":[{"dst":"0.0.0.0/0"}]}},{"type":"portmap","capabilities":{"portMappings":true}}]}' >/tmp/conf
        if ! cmp -s /tmp/conf "$conf"; then cp /tmp/conf "$conf.tmp" && mv "$conf.tmp" "$conf" && echo "wrote $conf for $cidr"; fi
        masq="POSTROUTING -s $cidr ! -d $cluster -m comment --comment stackport-net -j MASQUERADE"
        iptables -w -t nat -C $masq 2>/dev/null || { iptables -w -t nat -A $masq && echo "masquerading $cidr -> outside $cluster"; }
      else
        ip route replace "$cidr" via "$ip" || true
      fi
    done </tmp/nodes
  else
    cat /tmp/err
  fi
  sleep 5
done
`;

export function networkDockerfile(kubeProxyImage: string): string {
  return [`FROM ${kubeProxyImage}`, 'COPY kubectl /usr/local/bin/kubectl', 'COPY stackport-net /usr/local/bin/stackport-net', 'ENTRYPOINT ["/usr/local/bin/stackport-net"]', ''].join('\n');
}

export function networkManifest(image: string): string {
  const labels = { app: NETWORK_NAME, 'k8s-app': NETWORK_NAME };
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NETWORK_NAME, namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: NETWORK_NAME },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NETWORK_NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NETWORK_NAME },
      subjects: [{ kind: 'ServiceAccount', name: NETWORK_NAME, namespace: 'kube-system' }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: NETWORK_NAME, namespace: 'kube-system', labels },
      spec: {
        selector: { matchLabels: { app: NETWORK_NAME } },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            serviceAccountName: NETWORK_NAME,
            tolerations: [{ operator: 'Exists' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [
              {
                name: 'net',
                image,
                imagePullPolicy: 'IfNotPresent',
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
                resources: { requests: { cpu: '10m', memory: '20Mi' } },
                volumeMounts: [{ name: 'cni-cfg', mountPath: '/etc/cni/net.d' }],
              },
            ],
            volumes: [{ name: 'cni-cfg', hostPath: { path: '/etc/cni/net.d', type: 'DirectoryOrCreate' } }],
          },
        },
      },
    },
  ];
  return docs.map((d) => `---\n${stringify(d)}`).join('');
}
