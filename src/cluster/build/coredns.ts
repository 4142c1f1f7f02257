import { StackportError } from '../../errors.js';
import { FAKE_COMMIT } from './components.js';
import type { Kubectl } from '../kubectl.js';
import type { GoComponent } from './go-build.js';

/**
 * CoreDNS at the version kubeadm names (v1.12.1 for 1.34), built from its module (no replace or
 * exclude, main package at the root). kubeadm's addon/coredns phase deploys it; its Deployment
 * passes only `-conf /etc/coredns/Corefile`, so the image's entrypoint is /coredns.
 */
export function corednsComponent(version: string): GoComponent {
  return {
    name: 'coredns',
    module: 'github.com/coredns/coredns',
    version,
    go: '1.24',
    programs: [{ pkg: 'github.com/coredns/coredns', out: 'coredns' }],
    ldflags: `-X github.com/coredns/coredns/coremain.GitCommit=${FAKE_COMMIT.slice(0, 7)}`,
  };
}

export const BARE_NAMES_MARK = '# stackport: single-label names stay in the cluster';

/**
 * A pod that looks up a Service by its bare name (`api`) while CoreDNS is not yet synced with the
 * API server (after a dockerd restart every pod starts at once) walks its search list and ends at
 * `api.`, which CoreDNS forwards upstream. This host's upstream resolver answers every name (with
 * an interceptor that refuses the connection), so nginx bound `api` to it for good and answered 403
 * for /api/* after the restart. Single-label names have no public answer: CoreDNS answers NXDOMAIN
 * for them itself, the app's lookup fails and is retried (wait-for-api, the container's restart)
 * until the cluster's own answer is there. Both providers' Corefiles (kind's and kubeadm's, the same
 * kubeadm default) get the rule.
 */
export function withBareNamesKept(corefile: string): string {
  if (corefile.includes(BARE_NAMES_MARK)) return corefile;
  const at = /^(\s*)forward \. /m.exec(corefile);
  if (!at) throw new StackportError('the CoreDNS Corefile has no `forward .` line to put the single-label rule before', { details: corefile });
  const indent = at[1]!.replace(/^\n+/, '');
  const block = [BARE_NAMES_MARK, 'template ANY ANY . {', '   match "^[^.]+[.]$"', '   rcode NXDOMAIN', '   fallthrough', '}'].map((l) => `${indent}${l}`).join('\n');
  return `${corefile.slice(0, at.index)}${at[1]!.startsWith('\n') ? '\n' : ''}${block}\n${corefile.slice(at.index).replace(/^\n/, '')}`;
}

/** The cluster's Corefile (ConfigMap kube-system/coredns, as kubeadm's addon phase wrote it). */
export async function corefileOf(k: Pick<Kubectl, 'run'>): Promise<string> {
  return (await k.run(['-n', 'kube-system', 'get', 'configmap', 'coredns', '-o', 'jsonpath={.data.Corefile}'])).stdout;
}
