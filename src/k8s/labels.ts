/** app.kubernetes.io/* labels, and Compose labels carried as labels or annotations. */
import type { App } from '../model/app.js';

export const MANAGED_BY = 'stackport';
export const ANNOTATION_PREFIX = 'stackport.dev';

/** The labels a workload selects its pods by (immutable once applied, so kept minimal). */
export function selectorLabels(app: App, name: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': app.name, 'app.kubernetes.io/name': name };
}

/** Labels on every object made for a service. */
export function objectLabels(app: App, name: string): Record<string, string> {
  return { ...selectorLabels(app, name), 'app.kubernetes.io/managed-by': MANAGED_BY, 'app.kubernetes.io/part-of': app.name };
}

/** Labels on objects that belong to the whole app (NetworkPolicies, RBAC). */
export function appLabels(app: App): Record<string, string> {
  return { 'app.kubernetes.io/instance': app.name, 'app.kubernetes.io/managed-by': MANAGED_BY, 'app.kubernetes.io/part-of': app.name };
}

/** Pods of the app, for policies. */
export function appSelector(app: App): Record<string, string> {
  return { 'app.kubernetes.io/instance': app.name };
}

export function networkLabel(network: string): string {
  return `network.${ANNOTATION_PREFIX}/${network.toLowerCase().replace(/[^a-z0-9._-]/g, '-').slice(0, 63)}`;
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isLabelKey(key: string): boolean {
  if (!QUALIFIED_NAME.test(key)) return false;
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? '' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return prefix.length <= 253 && name.length <= 63;
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Compose labels: those that are valid Kubernetes labels stay labels; the rest (free text,
 * long values) become annotations; keys valid as neither are dropped and reported.
 */
export function carriedLabels(from: Record<string, string>): { labels: Record<string, string>; annotations: Record<string, string>; dropped: string[] } {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(from)) {
    if (!isLabelKey(k) || k.startsWith('app.kubernetes.io/')) {
      if (isLabelKey(k)) annotations[k] = v;
      else dropped.push(k);
    } else if (isLabelValue(v)) labels[k] = v;
    else annotations[k] = v;
  }
  return { labels, annotations, dropped };
}
