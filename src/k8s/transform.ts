/**
 * transform: app model -> Kubernetes objects, grouped into the files of the kustomize base.
 * Pure: the same model and options always give the same objects (the emitter sorts keys).
 */
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { App, Service, Warning } from '../model/app.js';
import { autoscaledService, canAutoscale, horizontalPodAutoscaler, releaseReplicas } from './autoscaling.js';
import { appSecrets, containerEnv, secretAndConfigMounts, type SecretFile, type SecretGenerator } from './config-and-secrets.js';
import { ANNOTATION_PREFIX, appLabels, carriedLabels, networkLabel, objectLabels, selectorLabels } from './labels.js';
import { dnsLabel, NameTable } from './names.js';
import { networkPolicies } from './network-policy.js';
import { disruptionBudget } from './pdb.js';
import { portName, serviceFor, servicePorts, type ServicePortSpec } from './services.js';
import { DEFAULT_VOLUME_SIZE, storageFor } from './storage.js';
import { SELF_IMAGE, waitContainer, type WaitTarget } from './wait.js';
import { imageRef, workload, workloadKind, type PodParts, type WorkloadKind } from './workloads.js';

/** Any Kubernetes object: typed where it is built, plain data from here on. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface TransformOptions {
  /** Image for the depends_on init containers; `self` uses the dependant's own image. */
  waitImage: string;
  /** The service reachable from the host; default: the one that publishes ports and nothing depends on. */
  entry?: string;
  /** Host port (127.0.0.1) the entry service is reachable on. */
  hostPort: number;
  /**
   * NodePort for the entry service's first published port (the next ones count up). Unset: the
   * API server allocates a free one (two projects on one cluster never fight over it); the entry
   * Service carries the label `stackport.dev/entry=true`, so a caller can read what was allocated.
   */
  nodePort?: number;
  /** Tag given to images Compose builds. */
  buildTag: string;
  /** Size of claims for named volumes that do not say (`x-stackport-size`). */
  volumeSize: string;
  /**
   * The namespace of every object. Unset: the project's own, named after the project
   * (`app.name` as a DNS label), so several projects share a cluster without clashing.
   * `default` (or any `kube-*`) is used as is, without a Namespace object.
   */
  namespace?: string;
  /** Paths in warnings are shown relative to this directory. */
  displayBase: string;
}

export const DEFAULT_OPTIONS: TransformOptions = {
  waitImage: SELF_IMAGE,
  hostPort: 8090,
  buildTag: 'latest',
  volumeSize: DEFAULT_VOLUME_SIZE,
  displayBase: process.cwd(),
};

export interface EntryPort {
  name: string;
  port: number;
  protocol: string;
  /** Unset: allocated by the API server when applied. */
  nodePort?: number;
  hostPort: number;
}

export interface EntryPoint {
  service: string;
  name: string;
  ports: EntryPort[];
}

export interface BaseFile {
  /** Path inside the base directory. */
  path: string;
  objects: K8sObject[];
}

export interface Manifests {
  app: App;
  /** The namespace every object goes to (see TransformOptions.namespace). */
  namespace: string;
  files: BaseFile[];
  secretGenerators: SecretGenerator[];
  secretFiles: SecretFile[];
  entry?: EntryPoint;
  /** Images the cluster must have in its local store. */
  images: string[];
  warnings: Warning[];
  /** Problems that make the app impossible to map (name clashes). */
  problems: Warning[];
}

/** Picks the service the host reaches: `--entry`, else the one that publishes ports and no other service depends on. */
export function entryService(app: App, requested?: string): Service | undefined {
  if (requested) return app.services.find((s) => s.name === requested);
  const dependedOn = new Set(app.services.flatMap((s) => s.dependsOn.map((d) => d.service)));
  const candidates = app.services.filter((s) => s.ports.some((p) => p.published !== undefined && p.protocol === 'TCP'));
  const free = candidates.filter((s) => !dependedOn.has(s.name));
  const pool = free.length ? free : candidates;
  const webby = pool.filter((s) => s.ports.some((p) => [80, 443, 8080, 3000, 8000].includes(p.target)));
  // Services behind a profile are optional tools (adminer, mailhog): the app itself comes first.
  return (webby.length ? webby : pool).sort((a, b) => Number(a.profiles.length > 0) - Number(b.profiles.length > 0) || a.name.localeCompare(b.name))[0];
}

/** `30000-30004, 8443`: port lists, sorted, runs collapsed. */
export function ranges(ports: number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(', ');
}

/** The namespace a project's objects go to: `--namespace`, else one named after the project. */
export function projectNamespace(app: App, requested?: string): string {
  return requested ?? dnsLabel(app.name, 63);
}

/** Namespaces every cluster has: used as they are, never created or labelled by stackport. */
export function isBuiltinNamespace(ns: string): boolean {
  return ns === 'default' || ns.startsWith('kube-');
}

export function transform(app: App, options: TransformOptions = DEFAULT_OPTIONS): Manifests {
  const namespace = projectNamespace(app, options.namespace);
  const names = new NameTable(app);
  const warnings: Warning[] = [...app.warnings, ...names.warnings];
  const files: BaseFile[] = [];
  const images = new Set<string>();
  const kinds = new Map(app.services.map((s) => [s.name, workloadKind(s, app)]));
  const byName = new Map(app.services.map((s) => [s.name, s]));
  const sharedVolumes = new Set<string>();
  const volumeUsers = new Map<string, number>();
  for (const s of app.services) for (const v of new Set(s.mounts.filter((m) => m.type === 'volume' && m.source).map((m) => m.source!))) volumeUsers.set(v, (volumeUsers.get(v) ?? 0) + 1);
  for (const [v, n] of volumeUsers) if (n > 1) sharedVolumes.add(v);

  const entrySvc = entryService(app, options.entry);
  if (options.entry && !entrySvc) {
    names.problems.push({ message: `--entry: no service "${options.entry}" (services: ${app.services.map((s) => s.name).join(', ')})` });
  }
  let entry: EntryPoint | undefined;
  if (entrySvc) {
    const published = [...new Map(entrySvc.ports.filter((p) => p.published !== undefined && p.protocol === 'TCP').map((p) => [p.target, p])).values()].sort((a, b) => a.target - b.target);
    const ports = published.length ? published : entrySvc.ports;
    entry = {
      service: entrySvc.name,
      name: names.of(entrySvc.name),
      ports: ports.map((p, i) => ({ name: portName({ port: p.target, protocol: p.protocol }), port: p.target, protocol: p.protocol, ...(options.nodePort !== undefined ? { nodePort: options.nodePort + i } : {}), hostPort: options.hostPort + i })),
    };
    for (const s of app.services) {
      if (s === entrySvc) continue;
      const published = s.ports.filter((x) => x.published !== undefined);
      if (published.length) {
        const list = ranges(published.map((p) => p.target));
        warnings.push({
          message: `services.${s.name}.ports: only the entry service (${entrySvc.name}) is published; ${names.of(s.name)} port${published.length > 1 ? 's' : ''} ${list} ${published.length > 1 ? 'are' : 'is'} reachable inside the cluster only (use kubectl port-forward from the host)`,
          pos: published[0]!.pos,
        });
      }
    }
  }

  const waitsForJobs = app.services.some((s) => s.dependsOn.some((d) => d.condition === 'service_completed_successfully'));
  const waiterAccount = `${dnsLabel(app.name, 40)}-job-waiter`;

  for (const composed of app.services) {
    const name = names.of(composed.name);
    const kind = kinds.get(composed.name)!;
    if (composed.autoscale && !canAutoscale(kind)) {
      warnings.push({ message: `services.${composed.name}.x-stackport.autoscale: a ${kind} cannot be autoscaled; ignored`, pos: composed.autoscale.pos });
    }
    const svc = composed.autoscale && canAutoscale(kind) ? autoscaledService(composed, warnings) : composed;
    const labels = objectLabels(app, name);
    const selector = selectorLabels(app, name);
    const image = imageRef(svc, options.buildTag);
    images.add(image);
    const carried = carriedLabels(svc.labels);
    const deployCarried = carriedLabels(svc.deployLabels);
    for (const k of [...carried.dropped, ...deployCarried.dropped]) warnings.push({ message: `services.${svc.name}.labels: "${k}" is not a valid Kubernetes label or annotation key; dropped`, pos: svc.pos });
    const storage = storageFor(svc, { app, name, kind, labels, volumeSize: options.volumeSize, displayBase: options.displayBase, shared: sharedVolumes });
    warnings.push(...storage.warnings);
    const mounted = secretAndConfigMounts(svc, app);
    const podLabels: Record<string, string> = { ...carried.labels, ...labels };
    for (const net of svc.networks) podLabels[networkLabel(net)] = 'true';
    const podAnnotations: Record<string, string> = { ...carried.annotations };
    if (storage.configHash) podAnnotations[`${ANNOTATION_PREFIX}/files-hash`] = storage.configHash;

    const initContainers = svc.dependsOn
      .slice()
      .sort((a, b) => a.service.localeCompare(b.service))
      .flatMap((d) => {
        const target = byName.get(d.service)!;
        const tkind = kinds.get(d.service)!;
        let t: WaitTarget;
        if (tkind === 'Job') {
          if (d.condition !== 'service_completed_successfully') return [];
          t = { name: names.of(d.service), kind: 'job' };
        } else {
          const tcp = servicePorts(target).find((p) => p.protocol === 'TCP');
          t = tcp ? { name: names.of(d.service), kind: 'tcp', port: tcp.port } : { name: names.of(d.service), kind: 'dns' };
        }
        const waitImage = options.waitImage === SELF_IMAGE ? image : options.waitImage;
        images.add(waitImage);
        return [waitContainer(t, waitImage)];
      });
    const parts: PodParts = {
      name,
      image,
      env: containerEnv(svc, name),
      volumes: [...storage.volumes, ...mounted.volumes],
      volumeMounts: [...storage.volumeMounts, ...mounted.volumeMounts],
      initContainers,
      podLabels,
      podAnnotations,
      selector,
    };
    if (svc.dependsOn.some((d) => d.condition === 'service_completed_successfully')) parts.serviceAccountName = waiterAccount;
    const wl = workload(
      { svc, kind, parts, labels: { ...deployCarried.labels, ...labels }, annotations: deployCarried.annotations, claimTemplates: storage.claimTemplates, serviceName: name },
      warnings,
    );
    const objects: K8sObject[] = [];
    if (storage.configMap) objects.push(storage.configMap as K8sObject);
    if (kind !== 'Job') objects.push(serviceFor(svc, name, labels, selector, kind === 'StatefulSet') as K8sObject);
    objects.push(wl as K8sObject);
    if (svc.autoscale && canAutoscale(kind)) {
      releaseReplicas(wl);
      objects.push(horizontalPodAutoscaler(name, kind, labels, svc.autoscale) as unknown as K8sObject);
    }
    const pdb = kind === 'Deployment' || kind === 'StatefulSet' ? disruptionBudget(name, svc.replicas, labels, selector) : undefined;
    if (pdb) objects.push(pdb as K8sObject);
    files.push({ path: `${name}.yaml`, objects });
  }

  const secrets = appSecrets(app, (s) => names.of(s), appLabels(app));
  warnings.push(...secrets.warnings);
  if (secrets.configMaps.length) files.push({ path: 'configs.yaml', objects: secrets.configMaps as K8sObject[] });

  const entryPorts: ServicePortSpec[] = entry ? entry.ports.map((p) => ({ port: p.port, protocol: p.protocol as ServicePortSpec['protocol'] })) : [];
  files.push({ path: 'network-policies.yaml', objects: networkPolicies(app, entry ? { selector: selectorLabels(app, entry.name), ports: entryPorts } : undefined) as K8sObject[] });

  if (waitsForJobs) {
    const labels = appLabels(app);
    const sa: IServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: waiterAccount, labels } };
    const role: IRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: waiterAccount, labels }, rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] }] };
    const binding: IRoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: waiterAccount, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: waiterAccount },
      subjects: [{ kind: 'ServiceAccount', name: waiterAccount, namespace }],
    };
    files.push({ path: 'job-waiter-rbac.yaml', objects: [sa, role, binding] as K8sObject[] });
  }
  if (!isBuiltinNamespace(namespace)) {
    files.unshift({ path: 'namespace.yaml', objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: appLabels(app) } }] });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  warnings.sort((a, b) => {
    const pa = a.pos ?? { file: '', line: 0, col: 0 };
    const pb = b.pos ?? { file: '', line: 0, col: 0 };
    return pa.file.localeCompare(pb.file) || pa.line - pb.line || pa.col - pb.col;
  });
  return {
    app,
    namespace,
    files,
    secretGenerators: secrets.generators,
    secretFiles: secrets.files,
    entry,
    images: [...images].sort(),
    warnings,
    problems: names.problems,
  };
}

export type { WorkloadKind };
