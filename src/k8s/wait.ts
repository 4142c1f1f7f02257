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
 * busybox nc, curl; getent or nslookup for names); `--wait-image` picks another one, e.g. busybox.
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
      // Whatever the image has: nc -z (netcat-openbsd), /dev/tcp (when sh is bash, or bash is
      // there beside dash), busybox nc (no -z:
      // connected = exit 0 or still open when timeout ends it), curl (any answer but "could
      // not resolve/connect/timed out" means something listens).
      'up() {',
      `  if command -v nc >/dev/null 2>&1 && nc -z -w 2 ${hp} >/dev/null 2>&1; then return 0; fi`,
      `  if (exec 3<>/dev/tcp/${t.name}/${t.port}) >/dev/null 2>&1; then return 0; fi`,
      `  if command -v bash >/dev/null 2>&1 && bash -c 'exec 3<>/dev/tcp/${t.name}/${t.port}' >/dev/null 2>&1; then return 0; fi`,
      `  if command -v nc >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then timeout 3 nc -w 2 ${hp} </dev/null >/dev/null 2>&1; r=$?; if [ $r -eq 0 ] || [ $r -ge 124 ] && [ $r -ne 127 ]; then return 0; fi; fi`,
      `  if command -v curl >/dev/null 2>&1; then curl -s -o /dev/null --connect-timeout 2 -m 3 http://${t.name}:${t.port}/; r=$?; case $r in 6|7|28) ;; *) return 0 ;; esac; fi`,
      '  return 1',
      '}',
      'until up; do sleep 2; done',
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
