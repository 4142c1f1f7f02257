/**
 * The stack as `compose up` will run it, taken from the one load of the Compose files
 * (src/compose's model): services, build contexts, images, published ports and named volumes,
 * with the values `docker compose config` prints for them (the parity tests compare the loader
 * with Compose).
 */
import path from 'node:path';
import type { App, PortMapping, Service } from '../model/app.js';

export interface PublishedPort {
  service: string;
  hostIp: string;
  published: number;
  target: number;
  protocol: string;
}

export interface ResolvedService {
  name: string;
  /** As the file names it; undefined when Compose names the image it builds (`<project>-<service>`). */
  image?: string;
  /** context: absolute (a remote context as written); dockerfile: as written, default `Dockerfile`. */
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  ports: PublishedPort[];
  /** A healthcheck Compose runs: the file's test, or (no test) the image's; not `disable` or `NONE`. */
  hasHealthcheck: boolean;
}

export interface ResolvedConfig {
  services: ResolvedService[];
  volumes: string[];
}

/** A build context Compose hands to the builder as it is (a Git repository or a URL), not a directory. */
const REMOTE_CONTEXT = /^([a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i;

/** Pure: the model of a loaded project (and its project directory) -> what the stack commands use. */
export function resolvedConfig(loaded: { app: App; plan: { workingDir: string } }): ResolvedConfig {
  const { app, plan } = loaded;
  const services = [...app.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((s) => resolvedService(s, plan.workingDir));
  return { services, volumes: app.volumes.map((v) => v.name).sort() };
}

function resolvedService(s: Service, workingDir: string): ResolvedService {
  const build = s.build && {
    context: REMOTE_CONTEXT.test(s.build.context) ? s.build.context : path.resolve(workingDir, s.build.context),
    dockerfile: s.build.dockerfile ?? 'Dockerfile',
    args: { ...s.build.args },
  };
  return {
    name: s.name,
    image: s.defaultImageName ? undefined : s.image,
    build,
    ports: s.ports.flatMap((p) => publishedPort(s.name, p)),
    hasHealthcheck: !s.healthcheckDisabled && (s.healthcheck !== undefined || s.healthcheckFromImage === true),
  };
}

/** A port bound on the host: one host port (not a range Compose picks from), default address 0.0.0.0. */
function publishedPort(service: string, p: PortMapping): PublishedPort[] {
  if (p.published === undefined || p.publishedTo !== undefined) return [];
  return [{ service, hostIp: p.hostIp || '0.0.0.0', published: p.published, target: p.target, protocol: p.protocol.toLowerCase() }];
}
