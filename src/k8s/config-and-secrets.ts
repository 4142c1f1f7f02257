/**
 * Configuration and secrets.
 *  - Environment values that are literal stay in the pod spec.
 *  - Values whose names say secret (PASSWORD, TOKEN, KEY, ...) and values Compose reads from
 *    variables (`${POSTGRES_PASSWORD}`) go to a Secret `<service>-env`, made by a kustomize
 *    secretGenerator from `secrets/<service>.env`: that file is written at apply time (see
 *    stage.ts) from the env file, never into the committed manifests.
 *  - Compose `secrets:` -> Secrets from `secrets/files/<name>` (secretGenerator), mounted at
 *    /run/secrets/<target>; `configs:` -> ConfigMaps with the file's content, mounted at the target.
 */
import { readFileSync } from 'node:fs';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { App, EnvVar, FileObject, Service, Warning } from '../model/app.js';
import { dnsLabel } from './names.js';

/** A kustomize secretGenerator entry. */
export interface SecretGenerator {
  name: string;
  envs?: string[];
  files?: string[];
}

/** A file that must exist next to the base kustomization when it is built (written by stage.ts). */
export type SecretFile =
  | { path: string; kind: 'env'; service: string; vars: EnvVar[] }
  | { path: string; kind: 'file'; object: FileObject };

export const SECRETS_DIR = 'secrets';

/** Environment values that are not written into manifests. */
export function deferredEnv(svc: Service): EnvVar[] {
  return svc.environment.filter((e) => e.secret || e.template !== undefined);
}

export function envSecretName(k8sName: string): string {
  return `${k8sName}-env`;
}

/** `$(VAR)` in a literal would be expanded by the kubelet; `$$(` keeps it literal. */
export function escapeEnvValue(value: string): string {
  return value.replace(/\$\(/g, '$$$$(');
}

export function containerEnv(svc: Service, k8sName: string): IEnvVar[] {
  return svc.environment.map((e) =>
    e.secret || e.template !== undefined
      ? { name: e.name, valueFrom: { secretKeyRef: { name: envSecretName(k8sName), key: e.name } } }
      : { name: e.name, value: escapeEnvValue(e.value) },
  );
}

export function secretObjectName(name: string): string {
  return dnsLabel(name, 63);
}

export interface MountedObjects {
  volumes: IVolume[];
  volumeMounts: IVolumeMount[];
}

/** Volumes and mounts for a service's `secrets:` and `configs:`. */
export function secretAndConfigMounts(svc: Service, app: App): MountedObjects {
  const out: MountedObjects = { volumes: [], volumeMounts: [] };
  svc.secrets.forEach((ref, i) => {
    const name = `secret-${i}`;
    out.volumes.push({ name, secret: { secretName: secretObjectName(ref.source), ...(ref.mode !== undefined ? { defaultMode: ref.mode } : {}) } });
    const mountPath = ref.target.startsWith('/') ? ref.target : `/run/secrets/${ref.target}`;
    out.volumeMounts.push({ name, mountPath, subPath: ref.source, readOnly: true });
  });
  svc.configs.forEach((ref, i) => {
    const name = `config-${i}`;
    const def = app.configs.find((c) => c.name === ref.source);
    const mode = ref.mode !== undefined ? { defaultMode: ref.mode } : {};
    if (def?.environment !== undefined) out.volumes.push({ name, secret: { secretName: secretObjectName(ref.source), ...mode } });
    else out.volumes.push({ name, configMap: { name: secretObjectName(ref.source), ...mode } });
    const mountPath = ref.target.startsWith('/') ? ref.target : `/${ref.target}`;
    out.volumeMounts.push({ name, mountPath, subPath: ref.source, readOnly: true });
  });
  return out;
}

export interface AppSecrets {
  generators: SecretGenerator[];
  files: SecretFile[];
  configMaps: IConfigMap[];
  warnings: Warning[];
}

/** Secret generators for every service's deferred environment and for the Compose secrets in use. */
export function appSecrets(app: App, nameOf: (service: string) => string, labels: Record<string, string>): AppSecrets {
  const r: AppSecrets = { generators: [], files: [], configMaps: [], warnings: [] };
  for (const svc of app.services) {
    const vars = deferredEnv(svc);
    if (!vars.length) continue;
    const name = envSecretName(nameOf(svc.name));
    const path = `${SECRETS_DIR}/${nameOf(svc.name)}.env`;
    r.generators.push({ name, envs: [path] });
    r.files.push({ path, kind: 'env', service: svc.name, vars });
  }
  const usedSecrets = new Set(app.services.flatMap((s) => s.secrets.map((x) => x.source)));
  for (const def of app.secrets) {
    if (!usedSecrets.has(def.name) || def.external) continue;
    const path = `${SECRETS_DIR}/files/${def.name}`;
    r.generators.push({ name: secretObjectName(def.name), files: [`${def.name}=${path}`] });
    r.files.push({ path, kind: 'file', object: def });
  }
  const usedConfigs = new Set(app.services.flatMap((s) => s.configs.map((x) => x.source)));
  for (const def of app.configs) {
    if (!usedConfigs.has(def.name) || def.external) continue;
    if (def.environment !== undefined) {
      // Read from a variable: resolved at apply time like secrets, so it is one.
      const path = `${SECRETS_DIR}/files/${def.name}`;
      r.generators.push({ name: secretObjectName(def.name), files: [`${def.name}=${path}`] });
      r.files.push({ path, kind: 'file', object: def });
      r.warnings.push({ message: `configs.${def.name}: read from $${def.environment} when applied; it becomes a Secret, mounted like a config`, pos: def.pos });
      continue;
    }
    const content = def.content ?? (def.file ? readFileSync(def.file).toString('utf8') : '');
    r.configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: secretObjectName(def.name), labels }, data: { [def.name]: content } });
  }
  r.generators.sort((a, b) => a.name.localeCompare(b.name));
  r.files.sort((a, b) => a.path.localeCompare(b.path));
  r.configMaps.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  return r;
}
