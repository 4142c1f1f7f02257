/**
 * Volumes: a named volume -> a volumeClaimTemplate (the workload becomes a StatefulSet) that
 * binds on the cluster's default StorageClass; a bind-mounted file -> a ConfigMap mounted with
 * subPath; a bind-mounted directory, tmpfs and anonymous volumes -> emptyDir (with a warning
 * for the directory: its files do not follow the pod to a node).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { bytesToQuantity } from '../compose/units.js';
import type { App, Mount, Service, Warning } from '../model/app.js';
import { createHash } from 'node:crypto';
import { dnsLabel } from './names.js';

export const DEFAULT_VOLUME_SIZE = '1Gi';
/** ConfigMaps hold at most 1 MiB; bigger files are refused with a warning. */
const CONFIGMAP_LIMIT = 1024 * 1024 - 4096;

export interface StorageResult {
  volumes: IVolume[];
  volumeMounts: IVolumeMount[];
  claimTemplates: IPersistentVolumeClaim[];
  configMap?: IConfigMap;
  /** Hash of the ConfigMap content, so pods roll when a mounted file changes. */
  configHash?: string;
  warnings: Warning[];
}

export interface StorageContext {
  app: App;
  /** Kubernetes name of the service. */
  name: string;
  /** Workload kind: only a StatefulSet gets claims. */
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';
  labels: Record<string, string>;
  volumeSize: string;
  /** Directory paths are shown relative to. */
  displayBase: string;
  /** Named volumes used by more than one service. */
  shared: Set<string>;
}

export function usesNamedVolume(svc: Service): boolean {
  return svc.mounts.some((m) => m.type === 'volume' && m.source !== undefined);
}

export function storageFor(svc: Service, ctx: StorageContext): StorageResult {
  const r: StorageResult = { volumes: [], volumeMounts: [], claimTemplates: [], warnings: [] };
  const files: Record<string, string> = {};
  const binary: Record<string, string> = {};
  const where = (_m: Mount) => `services.${svc.name}.volumes`;
  let n = 0;
  const claims = new Set<string>();
  for (const m of svc.mounts) {
    const mount: IVolumeMount = { mountPath: m.target, name: '' };
    if (m.readOnly) mount.readOnly = true;
    if (m.type === 'volume' && m.source !== undefined) {
      const claim = dnsLabel(m.source, 40);
      mount.name = claim;
      if (ctx.kind === 'StatefulSet') {
        if (!claims.has(claim)) {
          claims.add(claim);
          const def = ctx.app.volumes.find((v) => v.name === m.source);
          r.claimTemplates.push({
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: claim, labels: ctx.labels },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: def?.size ?? ctx.volumeSize } } },
          });
          if (ctx.shared.has(m.source)) {
            r.warnings.push({ message: `${where(m)}: volume "${m.source}" is shared with another service; in the cluster each service gets its own ReadWriteOnce claim, so data is not shared`, pos: m.pos });
          }
          if (def?.external) r.warnings.push({ message: `${where(m)}: volume "${m.source}" is external; a new claim is created (move the data in before starting)`, pos: m.pos });
        }
      } else {
        r.warnings.push({ message: `${where(m)}: named volume "${m.source}" on a ${ctx.kind}: mounted an emptyDir instead (the data does not persist)`, pos: m.pos });
        r.volumes.push({ name: claim, emptyDir: {} });
      }
      r.volumeMounts.push(mount);
      continue;
    }
    const name = `${m.type === 'tmpfs' ? 'tmpfs' : m.type === 'bind' ? 'bind' : 'anon'}-${n++}`;
    mount.name = name;
    if (m.type === 'tmpfs') {
      r.volumes.push({ name, emptyDir: m.tmpfsSize ? { medium: 'Memory', sizeLimit: bytesToQuantity(m.tmpfsSize) } : { medium: 'Memory' } });
    } else if (m.type === 'volume') {
      r.volumes.push({ name, emptyDir: {} });
    } else {
      const shown = m.sourceText ?? (m.source ? path.relative(ctx.displayBase, m.source) : '?');
      if (m.hostKind === 'file' && m.source) {
        const content = readFileSync(m.source);
        if (content.length > CONFIGMAP_LIMIT) {
          r.warnings.push({ message: `${where(m)}: bind-mounted file ${shown} is larger than a ConfigMap can hold (1 MiB); mounted an emptyDir instead (bake the file into the image)`, pos: m.pos });
          r.volumes.push({ name, emptyDir: {} });
        } else {
          const key = uniqueKey(path.basename(m.source), { ...files, ...binary });
          const text = content.toString('utf8');
          if (Buffer.from(text, 'utf8').equals(content)) files[key] = text;
          else binary[key] = content.toString('base64');
          r.volumes.push({ name, configMap: { name: `${ctx.name}-files`, items: [{ key, path: key }] } });
          mount.subPath = key;
          mount.readOnly = true;
          if (!m.readOnly) r.warnings.push({ message: `${where(m)}: bind-mounted file ${shown} is mounted read-only from a ConfigMap; writes in the container fail`, pos: m.pos });
        }
      } else if (m.hostKind === 'host' && m.source && !/docker\.sock$/.test(m.source)) {
        r.warnings.push({ message: `${where(m)}: host path ${m.source} -> hostPath volume; it must exist on every node the pod may run on`, pos: m.pos });
        r.volumes.push({ name, hostPath: { path: m.source } });
      } else {
        const what = m.source && /docker\.sock$/.test(m.source) ? 'the Docker socket does not exist on cluster nodes' : m.hostKind === 'missing' ? `bind-mounted path ${shown} does not exist (Compose would create a directory)` : `bind-mounted directory ${shown} is not on the cluster's nodes`;
        const instead = m.source && /docker\.sock$/.test(m.source) ? 'tools that drive Docker need a Kubernetes-native setup' : 'copy the files into the image, or use a named volume';
        r.warnings.push({ message: `${where(m)}: ${what}; mounted an empty directory instead (${instead})`, pos: m.pos });
        r.volumes.push({ name, emptyDir: {} });
      }
    }
    r.volumeMounts.push(mount);
  }
  if (Object.keys(files).length || Object.keys(binary).length) {
    r.configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${ctx.name}-files`, labels: ctx.labels } };
    if (Object.keys(files).length) r.configMap.data = files;
    if (Object.keys(binary).length) r.configMap.binaryData = binary;
    r.configHash = createHash('sha256').update(JSON.stringify([files, binary])).digest('hex').slice(0, 16);
  }
  return r;
}

function uniqueKey(base: string, taken: Record<string, string>): string {
  const clean = base.replace(/[^-._a-zA-Z0-9]/g, '_') || 'file';
  let key = clean;
  for (let i = 2; key in taken; i++) key = `${i}-${clean}`;
  return key;
}
