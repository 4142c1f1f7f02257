/**
 * The smoke checks of one changed service, from today's suite (src/smoke): the page for web, the
 * api's health and a message round trip for api, the whole suite for anything else. One
 * function, so project-declared checks (x-stackport.smoke) can take its place.
 */
import { checks, runChecks, runSmoke, type CheckResult, type SmokeTarget } from '../smoke/smoke.js';

const BY_SERVICE: Record<string, string[]> = {
  web: ['page says Hello Docker!'],
  api: ['api health: database and broker ok', 'message travels through PostgreSQL and RabbitMQ'],
};

export async function smokeService(service: string, target: SmokeTarget): Promise<CheckResult[]> {
  const t = { ...target, markerFile: undefined };
  const names = BY_SERVICE[service];
  if (!names) return runSmoke(t);
  return runChecks(t, checks.filter((x) => names.includes(x.name)));
}
