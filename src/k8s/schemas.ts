/**
 * The schema classes (kubernetes-models, compiled ajv validators) for every kind the generator
 * makes, in one module: validate.ts imports it once, lazily, so the bundle loads one chunk for
 * them instead of one per kind (each ESM chunk costs a resolve, a read and a compile at start-up).
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';

export type ModelClass = new (data: unknown) => { validate(): void };

/** `apiVersion/kind` -> its schema class. */
export const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['v1/ConfigMap', ConfigMap],
  ['v1/Namespace', Namespace],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['v1/ServiceAccount', ServiceAccount],
  ['v1/PersistentVolumeClaim', PersistentVolumeClaim],
  ['apps/v1/DaemonSet', DaemonSet],
  ['apps/v1/Deployment', Deployment],
  ['apps/v1/StatefulSet', StatefulSet],
  ['autoscaling/v2/HorizontalPodAutoscaler', HorizontalPodAutoscaler],
  ['batch/v1/Job', Job],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['rbac.authorization.k8s.io/v1/Role', Role],
  ['rbac.authorization.k8s.io/v1/RoleBinding', RoleBinding],
] as [string, ModelClass][]);
