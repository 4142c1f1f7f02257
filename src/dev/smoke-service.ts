/**
 * The smoke checks of one changed service. A user's project: the checks it declares for that
 * service (x-stackport.smoke), else the default suite (every service ready, that service's
 * published ports answer), run as `up` and migrate run them (src/smoke/run.ts). The demo: its
 * page for web, the api's health and a message round trip for api, the whole suite otherwise.
 */
import { checks, runChecks, runSmoke, type CheckResult, type SmokeTarget } from '../smoke/smoke.js';
import { runSuite } from '../smoke/run.js';
import type { CheckTarget } from '../smoke/target.js';
import type { SmokeCheck } from '../smoke/declarations.js';
import type { PublishedPort } from '../stack/resolved-config.js';

/** A project's own checks and the target that runs them (the suite closes it after each run). */
export interface ProjectChecks {
  target: CheckTarget;
  declared: SmokeCheck[];
  published: PublishedPort[];
}

const BY_SERVICE: Record<string, string[]> = {
  web: ['page says Hello Docker!'],
  api: ['api health: database and broker ok', 'message travels through PostgreSQL and RabbitMQ'],
};

export async function smokeService(service: string, target: SmokeTarget, project?: ProjectChecks): Promise<CheckResult[]> {
  // (runSuite closes the target)
  if (project) return runSuite(project.target, project.declared.filter((c) => c.service === service), { published: project.published.filter((p) => p.service === service) });
  const t = { ...target, markerFile: undefined };
  const names = BY_SERVICE[service];
  if (!names) return runSmoke(t);
  return runChecks(t, checks.filter((x) => names.includes(x.name)));
}
