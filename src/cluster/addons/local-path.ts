import { stringify } from 'yaml';
import { HOST } from '../build/cache.js';

/**
 * rancher/local-path-provisioner (built from its module) as the cluster's default StorageClass
 * `local-path`: a PVC gets a directory under /var/lib/stackport/local-path on the node when its
 * first Pod is scheduled (WaitForFirstConsumer). The helper pod that creates and removes those
 * directories runs the local busybox image (sh, mkdir, rm).
 */
export const STORAGE_CLASS = 'local-path';
export const LOCAL_PATH_NAMESPACE = 'local-path-storage';

export interface LocalPathOptions {
  /**
   * The API server the provisioner talks to (`KUBERNETES_SERVICE_HOST`/`_PORT`), instead of the
   * `kubernetes` Service's ClusterIP: after a reboot the provisioner starts before kube-proxy has
   * programmed that ClusterIP, and on this host an unprogrammed ClusterIP is refused
   * (host-network.ts), so its first API call failed, it exited and waited out the kubelet's
   * CrashLoopBackOff (10 s, then 20 s). kube-proxy itself reaches the API server the same way.
   */
  apiServer?: { host: string; port: number };
  /**
   * Read the helper pod from the mounted ConfigMap (`--helper-pod-file`) instead of through the
   * API at start (its config.json is a file already): then nothing at start needs the API server,
   * the process stays up while it is not there yet and its informers retry, instead of exiting.
   */
  helperPodFromFile?: boolean;
}

export function localPathManifests(image: string, helperImage: string, options: LocalPathOptions = {}): string {
  const ns = LOCAL_PATH_NAMESPACE;
  const apiEnv = options.apiServer
    ? [
        { name: 'KUBERNETES_SERVICE_HOST', value: options.apiServer.host },
        { name: 'KUBERNETES_SERVICE_PORT', value: String(options.apiServer.port) },
      ]
    : [];
  const helperPodFile = options.helperPodFromFile ? ['--helper-pod-file', '/etc/config/helperPod.yaml'] : [];
  const sa = 'local-path-provisioner-service-account';
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'local-path-provisioner-role', namespace: ns },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'local-path-provisioner-role' },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'local-path-provisioner-bind', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'local-path-provisioner-role' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'local-path-provisioner-bind' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'local-path-provisioner-role' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'local-path-provisioner', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'local-path-provisioner' } },
        template: {
          metadata: { labels: { app: 'local-path-provisioner' } },
          spec: {
            serviceAccountName: sa,
            containers: [
              {
                name: 'local-path-provisioner',
                image,
                imagePullPolicy: 'IfNotPresent',
                command: ['local-path-provisioner', '--debug', 'start', '--config', '/etc/config/config.json', ...helperPodFile, '--helper-image', helperImage],
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/config/' }],
                env: [
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'CONFIG_MOUNT_PATH', value: '/etc/config/' },
                  ...apiEnv,
                ],
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'local-path-config' } }],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'local-path-config', namespace: ns },
      data: {
        'config.json': JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [HOST.localVolumes] }] }, null, 2),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'helper-pod' },
          spec: {
            priorityClassName: 'system-node-critical',
            tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'helper-pod', image: helperImage, imagePullPolicy: 'IfNotPresent' }],
          },
        }),
      },
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}
