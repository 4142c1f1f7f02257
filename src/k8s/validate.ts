/**
 * Schema validation with kubernetes-models: every object is checked against the Kubernetes
 * OpenAPI schema before anything is written. kubernetes-models is ESM only, so it is loaded
 * lazily (scripts run through tsx; tests validate in a child process, see tests/golden).
 */
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './transform.js';

export type ObjectValidator = (o: K8sObject) => string | undefined;

const MODELS: Record<string, string> = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'v1/PersistentVolumeClaim': 'kubernetes-models/v1/PersistentVolumeClaim',
  'apps/v1/DaemonSet': 'kubernetes-models/apps/v1/DaemonSet',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'batch/v1/Job': 'kubernetes-models/batch/v1/Job',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1/Role': 'kubernetes-models/rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding',
};

type ModelClass = new (data: unknown) => { validate(): void };

/** Loads the schema classes for every kind the generator makes. */
export async function schemaValidator(): Promise<ObjectValidator> {
  const classes = new Map<string, ModelClass>();
  await Promise.all(
    Object.entries(MODELS).map(async ([key, spec]) => {
      const mod = (await import(spec)) as Record<string, ModelClass>;
      classes.set(key, mod[key.split('/').pop()!]!);
    }),
  );
  return (o) => {
    const Model = classes.get(`${o.apiVersion}/${o.kind}`);
    if (!Model) return `${o.kind} ${o.metadata?.name ?? ''}: no schema for ${o.apiVersion}/${o.kind}`;
    try {
      new Model(o).validate();
      return undefined;
    } catch (e) {
      return `${o.kind} ${o.metadata?.name ?? ''}: ${e instanceof Error ? e.message.split('\n').join('; ') : String(e)}`;
    }
  };
}

/** Validates every object of the generated base files (text), returning one line per problem. */
export function validateTexts(texts: Map<string, string>, validate: ObjectValidator): string[] {
  const problems: string[] = [];
  for (const [file, text] of texts) {
    if (!file.startsWith('base/') || file === 'base/kustomization.yaml' || !file.endsWith('.yaml')) continue;
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS({ maxAliasCount: -1 }) as K8sObject | null;
      if (!o) continue;
      const p = validate(o);
      if (p) problems.push(`${file}: ${p}`);
    }
  }
  return problems;
}
