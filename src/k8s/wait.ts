/**
 * depends_on -> init containers that hold a pod back until what it depends on is there,
 * the way Compose orders startup:
 *  - service_started / service_healthy: the dependency's Service accepts a TCP connection
 *    (a Service only routes to pods whose readinessProbe, i.e. healthcheck, passes), or, for a
 *    port-less headless Service, its name resolves (it resolves only to ready pods).
 *  - service_completed_successfully: the dependency runs as a Job; the pod polls the API
 *    server until the Job has succeeded (a small Role lets it read Jobs).
 * The image must already be on the node (the cluster has no registry): by default the
 * dependant's own image, which the script probes with whatever it has (nc, bash's /dev/tcp,
 * getent, nslookup, wget or curl); `--wait-image` picks another one, e.g. busybox.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';

export const SELF_IMAGE = 'self';

export interface WaitTarget {
  /** Kubernetes name of the dependency (its Service or Job). */
  name: string;
  kind: 'tcp' | 'dns' | 'job';
  port?: number;
}

export function waitScript(t: WaitTarget): string {
  if (t.kind === 'tcp') {
    const hp = `${t.name} ${t.port}`;
    return [
      `echo "waiting for ${t.name}:${t.port}"`,
      `until nc -z -w 2 ${hp} >/dev/null 2>&1 || (exec 3<>/dev/tcp/${t.name}/${t.port}) >/dev/null 2>&1; do sleep 2; done`,
      `echo "${t.name}:${t.port} is up"`,
    ].join('\n');
  }
  if (t.kind === 'dns') {
    return [
      `echo "waiting for ${t.name} to resolve"`,
      `until getent hosts ${t.name} >/dev/null 2>&1 || nslookup ${t.name} >/dev/null 2>&1; do sleep 2; done`,
      `echo "${t.name} resolves"`,
    ].join('\n');
  }
  return [
    `echo "waiting for job ${t.name} to succeed"`,
    'sa=/var/run/secrets/kubernetes.io/serviceaccount',
    `url="https://kubernetes.default.svc/apis/batch/v1/namespaces/$(cat $sa/namespace)/jobs/${t.name}"`,
    'auth="Authorization: Bearer $(cat $sa/token)"',
    `until { wget -qO- --no-check-certificate --header "$auth" "$url" 2>/dev/null || curl -fsk -H "$auth" "$url" 2>/dev/null; } | grep -Eq '"succeeded": ?[1-9]'; do sleep 2; done`,
    `echo "job ${t.name} succeeded"`,
  ].join('\n');
}

export function waitContainer(t: WaitTarget, image: string): IContainer {
  return {
    name: `wait-for-${t.name}`.slice(0, 63).replace(/-+$/, ''),
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', waitScript(t)],
    resources: { limits: { cpu: '100m', memory: '32Mi' }, requests: { cpu: '10m', memory: '16Mi' } },
  };
}
