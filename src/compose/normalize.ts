/**
 * Positioned Compose tree -> app model. Validates as it goes: every problem is collected
 * with its file:line:col (nothing stops at the first one); short and long syntax of ports,
 * volumes, environment, depends_on, secrets and healthchecks end up in one shape.
 */
import type { App, Service } from '../model/app.js';
import { describe, isPMap, isPScalar, type PMap } from './source.js';
import { checkDependencies } from './dependencies.js';
import { networkDefs } from './networks.js';
import { type NormalizeContext, problem } from './readers.js';
import { fileObjects } from './secrets.js';
import { service } from './services.js';
import { namedVolumes } from './volumes.js';

// The shared readers, for the x-stackport extension (src/compose/extension.ts) and tests.
export { checkKeys, mapOf, problem, scalarInt, warn, type NormalizeContext, type HostFiles } from './readers.js';
export { isSecretName } from './environment.js';
export { constraint } from './deploy.js';

export function normalize(root: PMap, ctx: NormalizeContext, activeProfiles: string[]): App {
  const get = (k: string) => root.entries.get(k);
  for (const [key, e] of root.entries) {
    if (key.startsWith('x-') || ['version', 'name', 'services', 'volumes', 'networks', 'secrets', 'configs'].includes(key)) continue;
    problem(ctx, e.keyPos, `unknown top-level key "${key}"`);
  }
  const volumes = namedVolumes(get('volumes')?.value, ctx);
  const networks = networkDefs(get('networks')?.value, ctx);
  const secrets = fileObjects('secrets', get('secrets')?.value, ctx);
  const configs = fileObjects('configs', get('configs')?.value, ctx);
  const servicesNode = get('services')?.value;
  const all: Service[] = [];
  if (!servicesNode || (isPScalar(servicesNode) && servicesNode.value === null)) {
    problem(ctx, servicesNode?.pos ?? root.pos, 'no `services` defined');
  } else if (!isPMap(servicesNode)) {
    problem(ctx, servicesNode.pos, `services must be a mapping, not ${describe(servicesNode)}`);
  } else {
    if (servicesNode.entries.size === 0) problem(ctx, servicesNode.pos, 'no `services` defined');
    for (const [name, e] of servicesNode.entries) {
      const svc = service(name, e.keyPos, e.value, ctx, { volumes, networks, secrets, configs });
      if (svc) all.push(svc);
    }
  }
  const active = all.filter((s) => s.profiles.length === 0 || s.profiles.some((p) => activeProfiles.includes(p) || activeProfiles.includes('*')));
  checkDependencies(all, active, ctx);
  return { name: ctx.projectName, file: '', services: active, volumes, networks, secrets, configs, warnings: ctx.warnings };
}
