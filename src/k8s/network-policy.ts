/**
 * networks -> NetworkPolicies. Compose lets containers on a shared network talk and keeps
 * the others apart; the cluster gets the same: ingress to the app's pods is denied by
 * default, each Compose network becomes a label on its members' pods plus a policy that
 * admits traffic between pods with that label, and the entry service admits traffic from
 * anywhere on its ports (the NodePort path from the host). Egress stays open (DNS).
 */
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { App } from '../model/app.js';
import { appLabels, appSelector, networkLabel } from './labels.js';
import { dnsLabel } from './names.js';
import type { ServicePortSpec } from './services.js';

export function networkPolicies(app: App, entry?: { selector: Record<string, string>; ports: ServicePortSpec[] }): INetworkPolicy[] {
  const labels = appLabels(app);
  const out: INetworkPolicy[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${dnsLabel(app.name, 40)}-default-deny`, labels },
      spec: { podSelector: { matchLabels: appSelector(app) }, policyTypes: ['Ingress'] },
    },
  ];
  const used = [...new Set(app.services.flatMap((s) => s.networks))].sort();
  for (const net of used) {
    const sel = { [networkLabel(net)]: 'true' };
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${dnsLabel(app.name, 30)}-net-${dnsLabel(net, 30)}`, labels },
      spec: { podSelector: { matchLabels: sel }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: sel } }] }] },
    });
  }
  if (entry && entry.ports.length) {
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${dnsLabel(app.name, 40)}-entry`, labels },
      spec: {
        podSelector: { matchLabels: entry.selector },
        policyTypes: ['Ingress'],
        ingress: [{ ports: entry.ports.map((p) => ({ port: p.port, protocol: p.protocol })) }],
      },
    });
  }
  return out;
}
