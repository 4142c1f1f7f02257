/**
 * Every service gets a Service so Compose service names keep resolving in the cluster:
 * ports from `ports` (container side) and `expose`; a StatefulSet's Service is headless;
 * a service with no ports at all gets a port-less headless Service, whose name resolves
 * to the pod IPs as Compose's DNS does. Port names are unique per port and protocol.
 */
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServicePort } from 'kubernetes-models/v1/ServicePort';
import type { Protocol, Service } from '../model/app.js';

export interface ServicePortSpec {
  port: number;
  protocol: Protocol;
}

/** Container ports of a service: `ports` targets and `expose`, unique, sorted. */
export function servicePorts(svc: Service): ServicePortSpec[] {
  const seen = new Map<string, ServicePortSpec>();
  for (const p of svc.ports) seen.set(`${p.target}/${p.protocol}`, { port: p.target, protocol: p.protocol });
  for (const e of svc.expose) seen.set(`${e.port}/${e.protocol}`, { port: e.port, protocol: e.protocol });
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** `tcp-80`, `udp-53`: valid IANA service names (<= 15 characters, has a letter), unique per port and protocol. */
export function portName(p: ServicePortSpec): string {
  return `${p.protocol.toLowerCase()}-${p.port}`;
}

export function serviceFor(svc: Service, name: string, labels: Record<string, string>, selector: Record<string, string>, headless: boolean): IService {
  const ports: IServicePort[] = servicePorts(svc).map((p) => ({ name: portName(p), port: p.port, protocol: p.protocol, targetPort: p.port }));
  const spec: IService['spec'] = { selector };
  if (ports.length) spec.ports = ports;
  if (headless || ports.length === 0) spec.clusterIP = 'None';
  if (!headless && ports.length) spec.type = 'ClusterIP';
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec };
}
