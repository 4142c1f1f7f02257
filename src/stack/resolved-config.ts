/**
 * The stack as Compose itself resolves it (`compose config`): services, build contexts,
 * images and published ports. Both Compose generations print YAML; their port syntax differs.
 */
import { parse } from 'yaml';

export interface PublishedPort {
  service: string;
  hostIp: string;
  published: number;
  target: number;
  protocol: string;
}

export interface ResolvedService {
  name: string;
  image?: string;
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  ports: PublishedPort[];
  hasHealthcheck: boolean;
}

export interface ResolvedConfig {
  services: ResolvedService[];
  volumes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parsePort(service: string, spec: unknown): PublishedPort[] {
  if (isObj(spec)) {
    const published = Number(spec.published);
    if (!published) return [];
    return [{ service, hostIp: String(spec.host_ip ?? '0.0.0.0'), published, target: Number(spec.target), protocol: String(spec.protocol ?? 'tcp') }];
  }
  const text = String(spec);
  const [mapping, protocol = 'tcp'] = text.split('/');
  const parts = (mapping ?? '').split(':');
  if (parts.length < 2) return [];
  const target = Number(parts.pop());
  const published = Number(parts.pop());
  const hostIp = parts.length ? parts.join(':') : '0.0.0.0';
  if (!published) return [];
  return [{ service, hostIp, published, target, protocol }];
}

export function parseResolvedConfig(text: string): ResolvedConfig {
  const doc = parse(text) as Obj;
  const services: ResolvedService[] = [];
  const svcMap = isObj(doc?.services) ? doc.services : {};
  for (const name of Object.keys(svcMap).sort()) {
    const s = svcMap[name] as Obj;
    let build: ResolvedService['build'];
    if (isObj(s.build)) {
      const args: Record<string, string> = {};
      if (isObj(s.build.args)) for (const [k, v] of Object.entries(s.build.args)) args[k] = String(v);
      build = { context: String(s.build.context), dockerfile: String(s.build.dockerfile ?? 'Dockerfile'), args };
    } else if (typeof s.build === 'string') {
      build = { context: s.build, dockerfile: 'Dockerfile', args: {} };
    }
    const ports = Array.isArray(s.ports) ? s.ports.flatMap((p) => parsePort(name, p)) : [];
    const hc = isObj(s.healthcheck) ? s.healthcheck : undefined;
    services.push({
      name,
      image: typeof s.image === 'string' ? s.image : undefined,
      build,
      ports,
      hasHealthcheck: Boolean(hc && !hc.disable && !(Array.isArray(hc.test) && hc.test[0] === 'NONE')),
    });
  }
  return { services, volumes: isObj(doc?.volumes) ? Object.keys(doc.volumes).sort() : [] };
}
