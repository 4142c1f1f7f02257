/** Kubernetes names: Compose names that are not valid DNS-1123 labels (`pdf_bot`) are made valid and reported. */
import type { App, Warning } from '../model/app.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && LABEL.test(name);
}

/** The closest valid DNS-1123 label: lowercase, `_` and `.` become `-`, other characters dropped, at most 63. */
export function dnsLabel(name: string, max = 63): string {
  let n = name
    .toLowerCase()
    .replace(/[_.\s]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-+/, '');
  if (n.length > max) n = n.slice(0, max);
  n = n.replace(/-+$/, '');
  return n || 'x';
}

/**
 * A service's Kubernetes object name (NameTable's rule, without its clash check): the name itself
 * when valid; StatefulSet pods get `-<ordinal>` and a controller-revision label, so at most 52.
 */
export function k8sName(service: string): string {
  return isDnsLabel(service) && service.length <= 52 ? service : dnsLabel(service, 52);
}

/** Compose service name -> Kubernetes object name, with a warning for each rename. */
export class NameTable {
  private readonly map = new Map<string, string>();
  readonly warnings: Warning[] = [];
  readonly problems: Warning[] = [];

  constructor(app: App) {
    const taken = new Map<string, string>();
    for (const s of app.services) {
      // StatefulSet pods get `-<ordinal>` and a controller-revision label: keep names short enough.
      const name = k8sName(s.name);
      const other = taken.get(name);
      if (other !== undefined) {
        this.problems.push({ message: `services.${s.name}: its Kubernetes name "${name}" clashes with service "${other}"; rename one of them`, pos: s.pos });
        continue;
      }
      if (name !== s.name) {
        this.warnings.push({
          message: `services.${s.name}: "${s.name}" is not a valid Kubernetes name; the service is named "${name}" in the cluster (containers that reach it as "${s.name}" must use "${name}")`,
          pos: s.pos,
        });
      }
      taken.set(name, s.name);
      this.map.set(s.name, name);
    }
  }

  of(service: string): string {
    return this.map.get(service) ?? dnsLabel(service);
  }
}
