/**
 * Workloads: a stateless service -> Deployment; a service with a named volume ->
 * StatefulSet; `deploy.mode: global` -> DaemonSet; a service others wait for with
 * service_completed_successfully -> Job. The pod spec carries command/entrypoint, env,
 * probes, resources, restart policy, securityContext from `user`, and node affinity from
 * placement constraints. Images come from the nodes' local store (IfNotPresent).
 */
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { bytesToQuantity, cpusToQuantity } from '../compose/units.js';
import type { App, ResourceSpec, Service, Warning } from '../model/app.js';
import { probesFor } from './probes.js';
import { spreadAcrossNodes } from './pdb.js';
import { usesNamedVolume } from './storage.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';
export type Workload = IDeployment | IStatefulSet | IDaemonSet | IJob;

export function workloadKind(svc: Service, app: App): WorkloadKind {
  if (app.services.some((s) => s.dependsOn.some((d) => d.service === svc.name && d.condition === 'service_completed_successfully'))) return 'Job';
  if (svc.mode === 'global') return 'DaemonSet';
  if (usesNamedVolume(svc)) return 'StatefulSet';
  return 'Deployment';
}

/** Built images get an explicit tag (`:latest` unless told otherwise) so the reference is exact; pulls never happen (IfNotPresent). */
export function imageRef(svc: Service, buildTag: string): string {
  if (!svc.built) return svc.image;
  const last = svc.image.split('/').pop()!;
  return last.includes(':') || last.includes('@') ? svc.image : `${svc.image}:${buildTag}`;
}

export function resources(limits: ResourceSpec, reservations: ResourceSpec): IContainer['resources'] | undefined {
  const q = (r: ResourceSpec) => {
    const out: Record<string, string> = {};
    if (r.cpus) out.cpu = cpusToQuantity(r.cpus);
    if (r.memoryBytes) out.memory = bytesToQuantity(r.memoryBytes);
    return Object.keys(out).length ? out : undefined;
  };
  const l = q(limits);
  const r = q(reservations);
  if (!l && !r) return undefined;
  return { ...(l ? { limits: l } : {}), ...(r ? { requests: r } : {}) };
}

/** `user: "1000:1000"` -> runAsUser/runAsGroup; names cannot be mapped (the pod has no /etc/passwd lookup). */
export function securityContext(svc: Service, warnings: Warning[]): IContainer['securityContext'] | undefined {
  const sc: NonNullable<IContainer['securityContext']> = {};
  if (svc.user !== undefined) {
    const [u, g] = svc.user.split(':');
    if (u && /^\d+$/.test(u)) {
      sc.runAsUser = Number(u);
      if (Number(u) !== 0) sc.runAsNonRoot = true;
    } else warnings.push({ message: `services.${svc.name}.user: "${svc.user}" is a name; Kubernetes needs a numeric uid, so the image's default user is used`, pos: svc.pos });
    if (g !== undefined) {
      if (/^\d+$/.test(g)) sc.runAsGroup = Number(g);
      else warnings.push({ message: `services.${svc.name}.user: group "${g}" is a name; Kubernetes needs a numeric gid`, pos: svc.pos });
    }
  }
  if (svc.privileged) sc.privileged = true;
  if (svc.capAdd.length || svc.capDrop.length) {
    sc.capabilities = {};
    if (svc.capAdd.length) sc.capabilities.add = [...svc.capAdd].sort();
    if (svc.capDrop.length) sc.capabilities.drop = [...svc.capDrop].sort();
  }
  if (svc.readOnlyRootFilesystem) sc.readOnlyRootFilesystem = true;
  return Object.keys(sc).length ? sc : undefined;
}

export interface PodParts {
  name: string;
  image: string;
  env: IEnvVar[];
  volumes: IVolume[];
  volumeMounts: IVolumeMount[];
  initContainers: IContainer[];
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  selector: Record<string, string>;
  serviceAccountName?: string;
}

export function container(svc: Service, parts: PodParts, warnings: Warning[]): IContainer {
  const c: IContainer = { name: parts.name, image: parts.image, imagePullPolicy: 'IfNotPresent' };
  if (svc.entrypoint) c.command = svc.entrypoint;
  if (svc.command) c.args = svc.command;
  if (svc.workingDir) c.workingDir = svc.workingDir;
  if (parts.env.length) c.env = parts.env;
  const ports = new Map<string, { containerPort: number; protocol: 'TCP' | 'UDP' | 'SCTP' }>();
  for (const p of [...svc.ports.map((p) => ({ port: p.target, protocol: p.protocol })), ...svc.expose]) ports.set(`${p.port}/${p.protocol}`, { containerPort: p.port, protocol: p.protocol });
  if (ports.size) c.ports = [...ports.values()].sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
  if (svc.healthcheck) Object.assign(c, probesFor(svc.healthcheck));
  const res = resources(svc.limits, svc.reservations);
  if (res) c.resources = res;
  const sc = securityContext(svc, warnings);
  if (sc) c.securityContext = sc;
  if (parts.volumeMounts.length) c.volumeMounts = parts.volumeMounts;
  if (svc.tty) c.tty = true;
  if (svc.stdinOpen) c.stdin = true;
  return c;
}

export function podSpec(svc: Service, kind: WorkloadKind, parts: PodParts, warnings: Warning[]): IPodSpec {
  const spec: IPodSpec = { containers: [container(svc, parts, warnings)] };
  if (parts.initContainers.length) spec.initContainers = parts.initContainers;
  if (parts.volumes.length) spec.volumes = parts.volumes;
  if (svc.stopGracePeriodSeconds !== undefined) spec.terminationGracePeriodSeconds = Math.ceil(svc.stopGracePeriodSeconds);
  if (svc.hostname && kind !== 'StatefulSet') spec.hostname = svc.hostname;
  if (svc.hostname && kind === 'StatefulSet') {
    warnings.push({ message: `services.${svc.name}.hostname: a StatefulSet pod is named after its ordinal (${parts.name}-0), which is its hostname; "${svc.hostname}" ignored (software that keys data by hostname, like RabbitMQ's node name, sees the new name)`, pos: svc.pos });
  }
  if (parts.serviceAccountName) spec.serviceAccountName = parts.serviceAccountName;
  if (kind === 'Job') {
    spec.restartPolicy = svc.restart === 'no' ? 'Never' : 'OnFailure';
  } else {
    spec.restartPolicy = 'Always';
    if (svc.restart === 'no' || svc.restart === 'on-failure') {
      // Said explicitly: Kubernetes cannot honour it for a long-running workload.
      warnings.push({ message: `services.${svc.name}: restart "${svc.restart}" -> a ${kind} always restarts its pods; restartPolicy Always`, pos: svc.pos });
    }
  }
  if (svc.placement.length) {
    spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: svc.placement.map((p) => (p.value === '' ? { key: p.key, operator: p.operator === 'In' ? 'Exists' : 'DoesNotExist' } : { key: p.key, operator: p.operator, values: [p.value] })),
            },
          ],
        },
      },
    };
  }
  const spread = kind === 'Deployment' || kind === 'StatefulSet' ? spreadAcrossNodes(svc.replicas, parts.selector) : undefined;
  if (spread) spec.topologySpreadConstraints = spread;
  return spec;
}

export interface WorkloadInput {
  svc: Service;
  kind: WorkloadKind;
  parts: PodParts;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  claimTemplates: IPersistentVolumeClaim[];
  /** The headless Service a StatefulSet is governed by. */
  serviceName: string;
}

export function workload(input: WorkloadInput, warnings: Warning[]): Workload {
  const { svc, kind, parts } = input;
  const metadata = { name: parts.name, labels: input.labels, ...(Object.keys(input.annotations).length ? { annotations: input.annotations } : {}) };
  const template = {
    metadata: { labels: parts.podLabels, ...(Object.keys(parts.podAnnotations).length ? { annotations: parts.podAnnotations } : {}) },
    spec: podSpec(svc, kind, parts, warnings),
  };
  const selector = { matchLabels: parts.selector };
  switch (kind) {
    case 'Deployment': {
      const d: IDeployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec: { replicas: svc.replicas, selector, template } };
      if (svc.update) {
        const step = svc.update.parallelism ?? 1;
        d.spec!.strategy = {
          type: 'RollingUpdate',
          rollingUpdate: svc.update.order === 'start-first' ? { maxSurge: step, maxUnavailable: 0 } : { maxSurge: 0, maxUnavailable: step },
        };
      }
      return d;
    }
    case 'StatefulSet': {
      const s: IStatefulSet = {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata,
        spec: { replicas: svc.replicas, selector, serviceName: input.serviceName, template, updateStrategy: { type: 'RollingUpdate' } },
      };
      if (input.claimTemplates.length) s.spec!.volumeClaimTemplates = input.claimTemplates;
      if (svc.update?.order === 'start-first') warnings.push({ message: `services.${svc.name}.deploy.update_config.order: a StatefulSet replaces pods one by one (stop-first)`, pos: svc.pos });
      return s;
    }
    case 'DaemonSet': {
      const ds: IDaemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata, spec: { selector, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: svc.update?.parallelism ?? 1 } } } };
      return ds;
    }
    case 'Job': {
      const j: IJob = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata,
        spec: { backoffLimit: svc.restart === 'no' ? 0 : (svc.maxRestartAttempts ?? 6), template: { ...template, metadata: { ...template.metadata } } },
      };
      if (svc.replicas > 1) j.spec!.completions = svc.replicas;
      return j;
    }
  }
}
