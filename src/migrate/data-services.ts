/**
 * Which services hold data the migration knows how to move: found in what will be applied (the
 * rendered workloads, by the image their containers run), not by service name, so a Compose file
 * whose database is called `postgres` or `pg` migrates the same as the demo's `db`.
 */
import type { ResolvedService } from '../stack/resolved-config.js';
import { dnsLabel } from '../k8s/names.js';
import type { RenderedWorkload } from './rendered.js';

export type DataEngine = 'postgres' | 'rabbitmq' | 'mysql' | 'redis';

export interface DataService {
  engine: DataEngine;
  /** The Compose service (where the data comes from). */
  service: string;
  /** The cluster workload and container (where it goes). */
  workload: RenderedWorkload;
  container: string;
}

/** `postgres:15`, `docker.io/library/postgres`, `bitnami/postgresql:16`, `stackport/postgres:15-bookworm`. */
export function engineOf(image: string): DataEngine | undefined {
  const repo = image.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  const base = repo.slice(repo.lastIndexOf('/') + 1);
  if (/^postgres(ql)?$/.test(base)) return 'postgres';
  if (/^rabbitmq$/.test(base)) return 'rabbitmq';
  if (/^(mysql|mariadb|percona|percona-server)$/.test(base)) return 'mysql';
  if (/^(redis|redis-stack-server|valkey)$/.test(base)) return 'redis';
  return undefined;
}

export function dataServices(workloads: RenderedWorkload[], compose: ResolvedService[]): DataService[] {
  const out: DataService[] = [];
  for (const w of workloads) {
    if (w.kind !== 'StatefulSet' && w.kind !== 'Deployment') continue;
    for (const c of w.containers) {
      const engine = engineOf(c.image);
      if (!engine) continue;
      const service = compose.find((s) => dnsLabel(s.name) === w.name) ?? compose.find((s) => s.image === c.image);
      if (service) out.push({ engine, service: service.name, workload: w, container: c.name });
    }
  }
  return out;
}
