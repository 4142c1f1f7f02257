/**
 * Positioned Compose tree -> app model. Validates as it goes: every problem is collected
 * with its file:line:col (nothing stops at the first one); short and long syntax of ports,
 * volumes, environment, depends_on, secrets and healthchecks end up in one shape.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type {
  App,
  Dependency,
  DependencyCondition,
  EnvVar,
  ExposedPort,
  FileObject,
  Healthcheck,
  Mount,
  NamedVolume,
  NetworkDef,
  PlacementConstraint,
  PortMapping,
  Protocol,
  ResourceSpec,
  RestartPolicy,
  Service,
  ServiceSecretRef,
  SourcePos,
  UpdatePolicy,
  Warning,
} from '../model/app.js';
import { parseDotenv } from './dotenv.js';
import { interpolate, type Env } from './interpolate.js';
import { describe, isPMap, isPScalar, isPSeq, type PMap, type PNode, type PScalar, type Problem } from './source.js';
import { parseBytes, parseDuration, splitCommand } from './units.js';

export interface NormalizeContext {
  /** Directory relative paths in the Compose file are resolved against. */
  dir: string;
  /** How file paths are shown in messages (relative to this directory). */
  displayBase: string;
  env: Env;
  projectName: string;
  problems: Problem[];
  warnings: Warning[];
  /** Services whose `extends` failed (already reported): no follow-up problems for them. */
  unresolved?: Set<string>;
}

const SERVICE_KEYS = new Set(
  (
    'annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count cpu_percent ' +
    'cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy develop ' +
    'device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file environment expose extends external_links ' +
    'extra_hosts gpus group_add healthcheck hostname image init ipc isolation labels label_file links logging mac_address mem_limit ' +
    'mem_reservation mem_swappiness memswap_limit network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports ' +
    'post_start pre_stop privileged profiles provider pull_policy read_only restart runtime scale secrets security_opt shm_size ' +
    'stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts volumes ' +
    'volumes_from working_dir'
  ).split(' '),
);

/** Keys that only mean something to a Docker host; each gets a warning naming what was done instead. */
const HOST_ONLY: Record<string, string> = {
  devices: 'host devices are not passed to pods; ignored',
  network_mode: 'pods have their own network namespace; ignored (the service keeps its Service and NetworkPolicy)',
  sysctls: 'sysctls need a kubelet allow-list in Kubernetes; ignored',
  cap_add: 'mapped to securityContext.capabilities.add; the namespace PodSecurity level must allow it',
  privileged: 'mapped to securityContext.privileged; the namespace PodSecurity level must allow it',
  container_name: 'Kubernetes names pods itself; the Service keeps the service name resolvable',
  links: 'Services resolve by service name already; ignored',
  external_links: 'ignored',
  volumes_from: 'pods do not share volumes with other pods; ignored',
  ipc: 'ignored',
  pid: 'ignored',
  uts: 'ignored',
  userns_mode: 'ignored',
  cgroup: 'ignored',
  cgroup_parent: 'ignored',
  logging: 'the cluster collects container stdout/stderr; logging drivers are ignored',
  security_opt: 'ignored; use a securityContext or a PodSecurity level',
  ulimits: 'Kubernetes has no per-pod ulimits; ignored',
  init: 'ignored; Kubernetes has no --init (use an init process in the image)',
  runtime: 'ignored (RuntimeClass is cluster specific)',
  platform: 'ignored; the node architecture decides',
  stop_signal: 'Kubernetes always sends SIGTERM; ignored (use a preStop hook)',
  oom_kill_disable: 'ignored',
  oom_score_adj: 'ignored',
  mac_address: 'ignored',
  dns_opt: 'ignored',
  domainname: 'ignored',
  gpus: 'GPUs need a device plugin; ignored',
  storage_opt: 'ignored',
  device_cgroup_rules: 'ignored',
  isolation: 'ignored',
  blkio_config: 'ignored',
  credential_spec: 'ignored',
  cpu_count: 'ignored; use deploy.resources',
  cpu_percent: 'ignored; use deploy.resources',
  cpu_shares: 'ignored; use deploy.resources',
  cpu_period: 'ignored; use deploy.resources',
  cpu_quota: 'ignored; use deploy.resources',
  cpu_rt_period: 'ignored',
  cpu_rt_runtime: 'ignored',
  cpuset: 'ignored',
  mem_swappiness: 'ignored',
  memswap_limit: 'ignored',
  pids_limit: 'ignored',
  group_add: 'ignored',
  develop: 'compose watch has no cluster equivalent; ignored',
  post_start: 'ignored',
  pre_stop: 'ignored',
  attach: 'ignored',
  use_api_socket: 'ignored',
  provider: 'ignored',
  label_file: 'ignored',
};

const SECRET_WORDS = new Set(['PASSWORD', 'PASSWD', 'PASS', 'PWD', 'SECRET', 'TOKEN', 'KEY', 'APIKEY', 'CREDENTIALS', 'CREDENTIAL', 'PRIVATE', 'AUTH', 'SALT', 'DSN']);

/** True when an environment variable's name says it holds a secret (DB_PASSWORD, API_KEY, GITHUB_TOKEN, ...). */
export function isSecretName(name: string): boolean {
  const words = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  // MYSQL_PASSWORD_FILE, TLS_KEY_PATH: the Docker convention for a path to the secret, not the secret.
  if (['FILE', 'PATH', 'DIR', 'LENGTH', 'TTL', 'EXPIRY', 'TIMEOUT'].includes(words[words.length - 1] ?? '')) return false;
  return words.some((w) => SECRET_WORDS.has(w) || /(PASSWORD|SECRET|TOKEN)$/.test(w));
}

export function normalize(root: PMap, ctx: NormalizeContext, activeProfiles: string[]): App {
  const get = (k: string) => root.entries.get(k);
  for (const [key, e] of root.entries) {
    if (key.startsWith('x-') || ['version', 'name', 'services', 'volumes', 'networks', 'secrets', 'configs'].includes(key)) continue;
    if (key === 'include') {
      ctx.warnings.push({ message: 'top-level `include` is not supported; the included files were not read', pos: e.keyPos });
      continue;
    }
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

function problem(ctx: NormalizeContext, pos: SourcePos, message: string): void {
  ctx.problems.push({ message, pos });
}

function warn(ctx: NormalizeContext, pos: SourcePos, message: string): void {
  ctx.warnings.push({ message, pos });
}

// ---------- scalar readers ----------

function scalarString(n: PNode | undefined, where: string, ctx: NormalizeContext): string | undefined {
  if (!n) return undefined;
  if (!isPScalar(n) || n.value === null) {
    problem(ctx, n.pos, `${where} must be a string, not ${describe(n)}`);
    return undefined;
  }
  return typeof n.value === 'string' ? n.value : n.raw || String(n.value);
}

function scalarInt(n: PNode | undefined, where: string, ctx: NormalizeContext, min = 0): number | undefined {
  if (!n) return undefined;
  const v = isPScalar(n) ? (typeof n.value === 'number' ? n.value : typeof n.value === 'string' && /^-?\d+$/.test(n.value.trim()) ? Number(n.value) : NaN) : NaN;
  if (!Number.isInteger(v)) {
    problem(ctx, n.pos, `${where} must be an integer, not ${describe(n)}`);
    return undefined;
  }
  if (v < min) {
    problem(ctx, n.pos, `${where} must be at least ${min}, not ${v}`);
    return undefined;
  }
  return v;
}

function scalarBool(n: PNode | undefined, where: string, ctx: NormalizeContext): boolean | undefined {
  if (!n) return undefined;
  if (isPScalar(n)) {
    if (typeof n.value === 'boolean') return n.value;
    if (typeof n.value === 'string' && /^(true|false)$/i.test(n.value)) return n.value.toLowerCase() === 'true';
  }
  problem(ctx, n.pos, `${where} must be true or false, not ${describe(n)}`);
  return undefined;
}

function duration(n: PNode | undefined, where: string, ctx: NormalizeContext): number | undefined {
  if (!n) return undefined;
  const raw = isPScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') ? n.value : undefined;
  const s = raw === undefined ? undefined : parseDuration(raw);
  if (s === undefined) {
    problem(ctx, n.pos, `${where} must be a duration like 30s or 1m30s, not ${describe(n)}`);
    return undefined;
  }
  return s;
}

/** The items of a list-valued key: none when the key is absent, a problem (and none) when it is not a list. */
function listItems(n: PNode | undefined, where: string, ctx: NormalizeContext): PNode[] {
  if (!n) return [];
  if (!isPSeq(n)) {
    problem(ctx, n.pos, `${where} must be a list, not ${describe(n)}`);
    return [];
  }
  return n.items;
}

function stringList(n: PNode | undefined, where: string, ctx: NormalizeContext): string[] {
  if (!n) return [];
  if (isPScalar(n) && typeof n.value === 'string') return [n.value];
  if (!isPSeq(n)) {
    problem(ctx, n.pos, `${where} must be a list of strings, not ${describe(n)}`);
    return [];
  }
  return n.items.map((i, k) => scalarString(i, `${where}[${k}]`, ctx)).filter((s): s is string => s !== undefined);
}

/** A string (split like a shell would) or a list of strings. */
function commandList(n: PNode | undefined, where: string, ctx: NormalizeContext): string[] | undefined {
  if (!n) return undefined;
  if (isPScalar(n) && n.value === null) return undefined;
  if (isPScalar(n)) {
    const text = scalarString(n, where, ctx);
    if (text === undefined) return undefined;
    const words = splitCommand(text);
    if (!words) problem(ctx, n.pos, `${where} has an unterminated quote`);
    return words;
  }
  if (isPSeq(n)) return n.items.map((i, k) => scalarString(i, `${where}[${k}]`, ctx) ?? '');
  problem(ctx, n.pos, `${where} must be a string or a list of strings, not ${describe(n)}`);
  return undefined;
}

/** `KEY=value` lists or mappings, with values as strings (`yes`, `1.0` stay as written). */
function keyValues(n: PNode | undefined, where: string, ctx: NormalizeContext): { name: string; value: PScalar | undefined; pos: SourcePos }[] {
  if (!n) return [];
  const out: { name: string; value: PScalar | undefined; pos: SourcePos }[] = [];
  if (isPMap(n)) {
    for (const [name, e] of n.entries) {
      if (!isPScalar(e.value)) {
        problem(ctx, e.value.pos, `${where}.${name} must be a string, number or boolean, not ${describe(e.value)}`);
        continue;
      }
      out.push({ name, value: e.value.value === null ? undefined : e.value, pos: e.keyPos });
    }
    return out;
  }
  if (isPSeq(n)) {
    n.items.forEach((i, k) => {
      if (!isPScalar(i) || typeof i.value !== 'string') {
        problem(ctx, i.pos, `${where}[${k}] must be a "KEY=value" string, not ${describe(i)}`);
        return;
      }
      const text = i.template ?? i.value;
      const eq = text.indexOf('=');
      if (eq < 0) out.push({ name: text, value: undefined, pos: i.pos });
      else out.push({ name: text.slice(0, eq), value: { ...i, value: text.slice(eq + 1), raw: text.slice(eq + 1), template: i.template === undefined ? undefined : text.slice(eq + 1) }, pos: i.pos });
    });
    return out;
  }
  problem(ctx, n.pos, `${where} must be a mapping or a list of "KEY=value" strings, not ${describe(n)}`);
  return [];
}

function stringMap(n: PNode | undefined, where: string, ctx: NormalizeContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of keyValues(n, where, ctx)) out[kv.name] = kv.value ? scalarText(kv.value) : '';
  return out;
}

/** The string Compose would use for a scalar: `true` -> "true", `1.0` -> "1.0", interpolated strings as interpolated. */
function scalarText(s: PScalar): string {
  if (typeof s.value === 'string') return s.value;
  if (s.value === null) return '';
  return s.raw || String(s.value);
}

function mapOf(n: PNode | undefined, where: string, ctx: NormalizeContext): PMap | undefined {
  if (!n) return undefined;
  if (isPMap(n)) return n;
  if (isPScalar(n) && n.value === null) return undefined;
  problem(ctx, n.pos, `${where} must be a mapping, not ${describe(n)}`);
  return undefined;
}

function checkKeys(m: PMap, where: string, known: string[], ctx: NormalizeContext): void {
  for (const [k, e] of m.entries) {
    if (!known.includes(k) && !k.startsWith('x-')) problem(ctx, e.keyPos, `${where}: unknown key "${k}"`);
  }
}

// ---------- top-level objects ----------

interface TopLevel {
  volumes: NamedVolume[];
  networks: NetworkDef[];
  secrets: FileObject[];
  configs: FileObject[];
}

function namedVolumes(n: PNode | undefined, ctx: NormalizeContext): NamedVolume[] {
  const m = mapOf(n, 'volumes', ctx);
  if (!m) return [];
  const out: NamedVolume[] = [];
  for (const [name, e] of m.entries) {
    const spec = mapOf(e.value, `volumes.${name}`, ctx);
    const v: NamedVolume = { name, external: false, pos: e.keyPos };
    if (spec) {
      checkKeys(spec, `volumes.${name}`, ['driver', 'driver_opts', 'external', 'labels', 'name'], ctx);
      const ext = spec.entries.get('external')?.value;
      v.external = isPMap(ext) ? true : (scalarBool(ext, `volumes.${name}.external`, ctx) ?? false);
      const size = spec.entries.get('x-stackport-size')?.value ?? mapOf(spec.entries.get('driver_opts')?.value, `volumes.${name}.driver_opts`, ctx)?.entries.get('size')?.value;
      if (size) v.size = scalarString(size, `volumes.${name} size`, ctx);
      const driver = spec.entries.get('driver');
      if (driver && scalarString(driver.value, `volumes.${name}.driver`, ctx) !== 'local') {
        warn(ctx, driver.keyPos, `volumes.${name}.driver: volume drivers do not exist in Kubernetes; the claim uses the default StorageClass`);
      }
    }
    out.push(v);
  }
  return out;
}

function networkDefs(n: PNode | undefined, ctx: NormalizeContext): NetworkDef[] {
  const m = mapOf(n, 'networks', ctx);
  const out: NetworkDef[] = [];
  if (!m) return out;
  for (const [name, e] of m.entries) {
    const spec = mapOf(e.value, `networks.${name}`, ctx);
    const def: NetworkDef = { name, internal: false, external: false, pos: e.keyPos };
    if (spec) {
      checkKeys(spec, `networks.${name}`, ['driver', 'driver_opts', 'attachable', 'enable_ipv6', 'enable_ipv4', 'ipam', 'internal', 'labels', 'external', 'name'], ctx);
      def.internal = scalarBool(spec.entries.get('internal')?.value, `networks.${name}.internal`, ctx) ?? false;
      const ext = spec.entries.get('external')?.value;
      def.external = isPMap(ext) ? true : (scalarBool(ext, `networks.${name}.external`, ctx) ?? false);
      const ipam = spec.entries.get('ipam');
      if (ipam) warn(ctx, ipam.keyPos, `networks.${name}.ipam: pod addresses come from the cluster's network plugin; ignored`);
    }
    out.push(def);
  }
  return out;
}

function fileObjects(kind: 'secrets' | 'configs', n: PNode | undefined, ctx: NormalizeContext): FileObject[] {
  const m = mapOf(n, kind, ctx);
  const out: FileObject[] = [];
  if (!m) return out;
  for (const [name, e] of m.entries) {
    const spec = mapOf(e.value, `${kind}.${name}`, ctx);
    if (!spec) {
      problem(ctx, e.value.pos, `${kind}.${name} must be a mapping with file, environment${kind === 'configs' ? ', content' : ''} or external`);
      continue;
    }
    checkKeys(spec, `${kind}.${name}`, ['file', 'environment', 'external', 'name', 'labels', 'driver', 'driver_opts', 'template_driver', 'content'], ctx);
    const obj: FileObject = { name, external: false, pos: e.keyPos };
    const file = spec.entries.get('file');
    if (file) {
      const rel = scalarString(file.value, `${kind}.${name}.file`, ctx);
      if (rel !== undefined) {
        obj.fileText = rel;
        obj.file = path.resolve(ctx.dir, rel);
        if (!existsSync(obj.file)) {
          if (kind === 'configs') problem(ctx, file.value.pos, `${kind}.${name}.file: ${rel} does not exist`);
          else warn(ctx, file.value.pos, `${kind}.${name}.file: ${rel} does not exist yet; it must exist when the manifests are applied`);
        }
      }
    }
    const env = spec.entries.get('environment');
    if (env) obj.environment = scalarString(env.value, `${kind}.${name}.environment`, ctx);
    const content = spec.entries.get('content');
    if (content) obj.content = scalarString(content.value, `${kind}.${name}.content`, ctx);
    const ext = spec.entries.get('external');
    if (ext) obj.external = isPMap(ext.value) ? true : (scalarBool(ext.value, `${kind}.${name}.external`, ctx) ?? false);
    if (obj.external) warn(ctx, e.keyPos, `${kind}.${name} is external: it must already exist in the namespace as a ${kind === 'secrets' ? 'Secret' : 'ConfigMap'} named "${name.toLowerCase().replace(/[_.]/g, '-')}" with the key "${name}"`);
    else if (!obj.file && obj.environment === undefined && obj.content === undefined) {
      problem(ctx, e.keyPos, `${kind}.${name} needs one of file, environment${kind === 'configs' ? ', content' : ''} or external`);
    }
    out.push(obj);
  }
  return out;
}

// ---------- services ----------

function service(name: string, pos: SourcePos, n: PNode, ctx: NormalizeContext, top: TopLevel): Service | undefined {
  const where = `services.${name}`;
  if (!isPMap(n)) {
    if (isPScalar(n) && n.value === null) problem(ctx, n.pos, `${where} is empty: it needs an image or a build`);
    else problem(ctx, n.pos, `${where} must be a mapping, not ${describe(n)}`);
    return undefined;
  }
  const e = (k: string) => n.entries.get(k);
  const v = (k: string) => n.entries.get(k)?.value;
  for (const [key, entry] of n.entries) {
    if (key.startsWith('x-')) continue;
    if (!SERVICE_KEYS.has(key)) problem(ctx, entry.keyPos, `${where}: unknown key "${key}"`);
    else if (HOST_ONLY[key] && !(key === 'privileged' && isPScalar(entry.value) && entry.value.value === false)) {
      warn(ctx, entry.keyPos, `${where}.${key}: ${HOST_ONLY[key]}`);
    }
  }
  const svc: Service = {
    name,
    pos,
    image: '',
    built: false,
    environment: [],
    ports: [],
    expose: [],
    mounts: [],
    secrets: [],
    configs: [],
    healthcheckDisabled: false,
    dependsOn: [],
    mode: 'replicated',
    replicas: 1,
    limits: {},
    reservations: {},
    capAdd: stringList(v('cap_add'), `${where}.cap_add`, ctx),
    capDrop: stringList(v('cap_drop'), `${where}.cap_drop`, ctx),
    placement: [],
    labels: {},
    deployLabels: {},
    networks: [],
    profiles: stringList(v('profiles'), `${where}.profiles`, ctx),
    readOnlyRootFilesystem: scalarBool(v('read_only'), `${where}.read_only`, ctx) ?? false,
    privileged: scalarBool(v('privileged'), `${where}.privileged`, ctx) ?? false,
    tty: scalarBool(v('tty'), `${where}.tty`, ctx) ?? false,
    stdinOpen: scalarBool(v('stdin_open'), `${where}.stdin_open`, ctx) ?? false,
  };
  // image / build
  const image = scalarString(v('image'), `${where}.image`, ctx);
  const build = v('build');
  if (build) {
    if (isPScalar(build)) svc.build = { context: scalarString(build, `${where}.build`, ctx) ?? '.' };
    else if (isPMap(build)) {
      svc.build = {
        context: scalarString(build.entries.get('context')?.value, `${where}.build.context`, ctx) ?? '.',
        dockerfile: scalarString(build.entries.get('dockerfile')?.value, `${where}.build.dockerfile`, ctx),
      };
    } else problem(ctx, build.pos, `${where}.build must be a path or a mapping, not ${describe(build)}`);
    svc.built = true;
  }
  if (image !== undefined) {
    if (image.trim() === '') problem(ctx, v('image')!.pos, `${where}.image is empty`);
    else if (/\s/.test(image) || /[A-Z]/.test(image.split('/').pop()!.split(':')[0]!)) problem(ctx, v('image')!.pos, `${where}.image "${image}" is not a valid image reference`);
    svc.image = image;
  } else if (build) {
    svc.image = `${ctx.projectName}-${name}`;
  } else if (!ctx.unresolved?.has(name)) {
    problem(ctx, pos, `${where} needs an image or a build`);
  }
  svc.command = commandList(v('command'), `${where}.command`, ctx);
  svc.entrypoint = commandList(v('entrypoint'), `${where}.entrypoint`, ctx);
  svc.workingDir = scalarString(v('working_dir'), `${where}.working_dir`, ctx);
  svc.user = scalarString(v('user'), `${where}.user`, ctx);
  svc.hostname = scalarString(v('hostname'), `${where}.hostname`, ctx);
  if (v('stop_grace_period')) svc.stopGracePeriodSeconds = duration(v('stop_grace_period'), `${where}.stop_grace_period`, ctx);
  svc.environment = environment(name, n, ctx);
  svc.ports = ports(v('ports'), `${where}.ports`, ctx);
  svc.expose = exposed(v('expose'), `${where}.expose`, ctx);
  svc.mounts = mounts(v('volumes'), `${where}.volumes`, ctx, top.volumes);
  for (const t of stringList(v('tmpfs'), `${where}.tmpfs`, ctx)) svc.mounts.push({ type: 'tmpfs', target: t.split(':')[0]!, readOnly: false, pos: v('tmpfs')!.pos });
  const shm = v('shm_size');
  if (shm) {
    const bytes = isPScalar(shm) && (typeof shm.value === 'string' || typeof shm.value === 'number') ? parseBytes(shm.value) : undefined;
    if (bytes === undefined) problem(ctx, shm.pos, `${where}.shm_size must be a size like 256m, not ${describe(shm)}`);
    else svc.mounts.push({ type: 'tmpfs', target: '/dev/shm', readOnly: false, tmpfsSize: bytes, pos: shm.pos });
  }
  svc.secrets = secretRefs('secrets', v('secrets'), `${where}.secrets`, ctx, top.secrets);
  svc.configs = secretRefs('configs', v('configs'), `${where}.configs`, ctx, top.configs);
  healthcheck(svc, v('healthcheck'), `${where}.healthcheck`, ctx);
  svc.dependsOn = dependsOn(v('depends_on'), `${where}.depends_on`, ctx);
  restart(svc, v('restart'), `${where}.restart`, ctx);
  deploy(svc, v('deploy'), `${where}.deploy`, ctx);
  const scale = v('scale');
  if (scale && !v('deploy')) svc.replicas = scalarInt(scale, `${where}.scale`, ctx) ?? 1;
  legacyResources(svc, n, where, ctx);
  autoscale(svc, v('x-stackport'), `${where}.x-stackport`, ctx);
  svc.labels = { ...stringMap(v('labels'), `${where}.labels`, ctx), ...stringMap(v('annotations'), `${where}.annotations`, ctx) };
  svc.networks = serviceNetworks(v('networks'), `${where}.networks`, ctx, top.networks);
  if (e('pull_policy') && /^(always|build)$/.test(scalarString(v('pull_policy'), `${where}.pull_policy`, ctx) ?? '')) {
    warn(ctx, e('pull_policy')!.keyPos, `${where}.pull_policy: the cluster has no registry; images use imagePullPolicy IfNotPresent`);
  }
  return svc;
}

function environment(name: string, n: PMap, ctx: NormalizeContext): EnvVar[] {
  const where = `services.${name}`;
  const vars = new Map<string, EnvVar>();
  // env_file first; `environment` overrides it.
  const envFiles = n.entries.get('env_file')?.value;
  const files: { path: string; required: boolean; pos: SourcePos }[] = [];
  if (envFiles) {
    const items = isPSeq(envFiles) ? envFiles.items : [envFiles];
    items.forEach((item, k) => {
      if (isPMap(item)) {
        const p = scalarString(item.entries.get('path')?.value, `${where}.env_file[${k}].path`, ctx);
        const required = scalarBool(item.entries.get('required')?.value, `${where}.env_file[${k}].required`, ctx) ?? true;
        if (p !== undefined) files.push({ path: p, required, pos: item.pos });
      } else {
        const p = scalarString(item, `${where}.env_file`, ctx);
        if (p !== undefined) files.push({ path: p, required: true, pos: item.pos });
      }
    });
  }
  for (const f of files) {
    const abs = path.resolve(ctx.dir, f.path);
    if (!existsSync(abs)) {
      if (f.required) problem(ctx, f.pos, `${where}.env_file: ${f.path} does not exist`);
      else warn(ctx, f.pos, `${where}.env_file: ${f.path} does not exist; skipped (required: false)`);
      continue;
    }
    const display = path.relative(ctx.displayBase, abs) || abs;
    const parsed = parseDotenv(readFileSync(abs, 'utf8'), display);
    for (const p of parsed.problems) problem(ctx, p.pos, p.message);
    for (const entry of parsed.entries) {
      const secret = isSecretName(entry.name);
      if (entry.value === undefined) vars.set(entry.name, { name: entry.name, value: '', template: `\${${entry.name}}`, secret, pos: entry.pos });
      else vars.set(entry.name, { name: entry.name, value: entry.value, secret, pos: entry.pos });
    }
  }
  for (const kv of keyValues(n.entries.get('environment')?.value, `${where}.environment`, ctx)) {
    if (!/^[^=\s]+$/.test(kv.name)) {
      problem(ctx, kv.pos, `${where}.environment: "${kv.name}" is not a valid variable name`);
      continue;
    }
    const secret = isSecretName(kv.name);
    if (!kv.value) {
      // `KEY` alone (or `KEY:` with no value): Compose passes the variable through from the environment.
      vars.set(kv.name, { name: kv.name, value: '', template: `\${${kv.name}}`, secret, pos: kv.pos });
      continue;
    }
    const raw = typeof kv.value.value === 'string' ? kv.value.value : scalarText(kv.value);
    if (typeof kv.value.value === 'string' && raw.includes('$')) {
      const r = interpolate(raw, {});
      for (const err of r.errors.filter((m) => !m.startsWith('required variable'))) problem(ctx, kv.value.pos, `${where}.environment.${kv.name}: ${err}`);
      if (r.vars.length) {
        vars.set(kv.name, { name: kv.name, value: '', template: raw, secret, pos: kv.pos });
        continue;
      }
      vars.set(kv.name, { name: kv.name, value: r.value, secret, pos: kv.pos });
      continue;
    }
    vars.set(kv.name, { name: kv.name, value: raw, secret, pos: kv.pos });
  }
  return [...vars.values()];
}

const PROTOCOLS: Record<string, Protocol> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

function portNumber(text: string, where: string, pos: SourcePos, ctx: NormalizeContext): number | undefined {
  if (!/^\d+$/.test(text)) {
    problem(ctx, pos, `${where}: "${text}" is not a port number`);
    return undefined;
  }
  const p = Number(text);
  if (p < 1 || p > 65535) {
    problem(ctx, pos, `${where}: port ${p} is out of range (1-65535)`);
    return undefined;
  }
  return p;
}

function portRange(text: string, where: string, pos: SourcePos, ctx: NormalizeContext): number[] | undefined {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) {
    const p = portNumber(text, where, pos, ctx);
    return p === undefined ? undefined : [p];
  }
  const a = portNumber(m[1]!, where, pos, ctx);
  const b = portNumber(m[2]!, where, pos, ctx);
  if (a === undefined || b === undefined) return undefined;
  if (b < a) {
    problem(ctx, pos, `${where}: port range ${text} ends before it starts`);
    return undefined;
  }
  if (b - a >= 1000) {
    problem(ctx, pos, `${where}: port range ${text} has more than 1000 ports`);
    return undefined;
  }
  return Array.from({ length: b - a + 1 }, (_x, i) => a + i);
}

function ports(n: PNode | undefined, where: string, ctx: NormalizeContext): PortMapping[] {
  const out: PortMapping[] = [];
  listItems(n, where, ctx).forEach((item, k) => {
    const w = `${where}[${k}]`;
    if (isPMap(item)) {
      checkKeys(item, w, ['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol'], ctx);
      const targetNode = item.entries.get('target')?.value;
      if (!targetNode) {
        problem(ctx, item.pos, `${w}: target is required`);
        return;
      }
      const target = portNumber(String(isPScalar(targetNode) ? targetNode.value : ''), `${w}.target`, targetNode.pos, ctx);
      const pubNode = item.entries.get('published')?.value;
      const published = pubNode && isPScalar(pubNode) ? portRange(String(pubNode.value), `${w}.published`, pubNode.pos, ctx) : undefined;
      const protoText = (scalarString(item.entries.get('protocol')?.value, `${w}.protocol`, ctx) ?? 'tcp').toLowerCase();
      const protocol = PROTOCOLS[protoText];
      if (!protocol) problem(ctx, item.entries.get('protocol')!.value.pos, `${w}.protocol must be tcp, udp or sctp, not "${protoText}"`);
      if (target === undefined || !protocol) return;
      out.push({ target, published: published?.[0], hostIp: scalarString(item.entries.get('host_ip')?.value, `${w}.host_ip`, ctx), protocol, pos: item.pos });
      return;
    }
    if (!isPScalar(item) || item.value === null || typeof item.value === 'boolean') {
      problem(ctx, item.pos, `${w} must be a "host:container" string or a mapping, not ${describe(item)}`);
      return;
    }
    const text = String(item.value);
    let body = text;
    let protocol: Protocol = 'TCP';
    const slash = text.lastIndexOf('/');
    if (slash >= 0) {
      const p = PROTOCOLS[text.slice(slash + 1).toLowerCase()];
      if (!p) {
        problem(ctx, item.pos, `${w}: protocol must be tcp, udp or sctp, not "${text.slice(slash + 1)}"`);
        return;
      }
      protocol = p;
      body = text.slice(0, slash);
    }
    let hostIp: string | undefined;
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(body);
    if (v6) {
      hostIp = v6[1];
      body = v6[2]!;
    }
    const parts = body.split(':');
    if (!v6 && parts.length === 3) hostIp = parts.shift();
    else if (parts.length > 2 || (v6 && parts.length !== 2)) {
      problem(ctx, item.pos, `${w}: "${text}" is not a valid port mapping`);
      return;
    }
    const targets = portRange(parts[parts.length - 1]!, w, item.pos, ctx);
    const published = parts.length === 2 && parts[0] !== '' ? portRange(parts[0]!, w, item.pos, ctx) : undefined;
    if (!targets || (parts.length === 2 && parts[0] !== '' && !published)) return;
    if (published && published.length !== targets.length && published.length !== 1 && targets.length !== 1) {
      problem(ctx, item.pos, `${w}: "${text}" maps ${published.length} host ports to ${targets.length} container ports`);
      return;
    }
    targets.forEach((target, i) => out.push({ target, published: published ? (published[i] ?? published[0]) : undefined, hostIp, protocol, pos: item.pos }));
  });
  return out;
}

function exposed(n: PNode | undefined, where: string, ctx: NormalizeContext): ExposedPort[] {
  const out: ExposedPort[] = [];
  listItems(n, where, ctx).forEach((item, k) => {
    if (!isPScalar(item) || item.value === null) {
      problem(ctx, item.pos, `${where}[${k}] must be a port, not ${describe(item)}`);
      return;
    }
    const [body, proto] = String(item.value).split('/');
    const protocol = PROTOCOLS[(proto ?? 'tcp').toLowerCase()];
    if (!protocol) {
      problem(ctx, item.pos, `${where}[${k}]: protocol must be tcp, udp or sctp, not "${proto}"`);
      return;
    }
    for (const port of portRange(body!, `${where}[${k}]`, item.pos, ctx) ?? []) out.push({ port, protocol, pos: item.pos });
  });
  return out;
}

function mountSource(ctx: NormalizeContext, source: string): { type: 'bind' | 'volume'; abs?: string } {
  if (/^(\.|\/|~)/.test(source) || source.includes('/')) {
    const expanded = source.startsWith('~') ? path.join(process.env.HOME ?? '/root', source.slice(1)) : source;
    return { type: 'bind', abs: path.resolve(ctx.dir, expanded) };
  }
  return { type: 'volume' };
}

function hostKind(abs: string): Mount['hostKind'] {
  try {
    const st = statSync(abs);
    return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

function inside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function mounts(n: PNode | undefined, where: string, ctx: NormalizeContext, volumes: NamedVolume[]): Mount[] {
  const out: Mount[] = [];
  const declared = new Set(volumes.map((v) => v.name));
  listItems(n, where, ctx).forEach((item, k) => {
    const w = `${where}[${k}]`;
    let m: Mount | undefined;
    if (isPMap(item)) {
      checkKeys(item, w, ['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency', 'image'], ctx);
      const type = scalarString(item.entries.get('type')?.value, `${w}.type`, ctx);
      const target = scalarString(item.entries.get('target')?.value, `${w}.target`, ctx);
      const source = scalarString(item.entries.get('source')?.value, `${w}.source`, ctx);
      if (!target) {
        problem(ctx, item.pos, `${w}: target is required`);
        return;
      }
      if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
        if (type === 'npipe' || type === 'image' || type === 'cluster') warn(ctx, item.pos, `${w}: ${type} mounts are not supported; skipped`);
        else problem(ctx, item.pos, `${w}.type must be volume, bind or tmpfs, not ${type === undefined ? 'missing' : `"${type}"`}`);
        return;
      }
      m = { type, target, readOnly: scalarBool(item.entries.get('read_only')?.value, `${w}.read_only`, ctx) ?? false, pos: item.pos };
      if (source) {
        m.sourceText = source;
        m.source = type === 'bind' ? path.resolve(ctx.dir, source) : source;
      }
      const tmpfs = mapOf(item.entries.get('tmpfs')?.value, `${w}.tmpfs`, ctx)?.entries.get('size')?.value;
      if (tmpfs && isPScalar(tmpfs) && (typeof tmpfs.value === 'string' || typeof tmpfs.value === 'number')) m.tmpfsSize = parseBytes(tmpfs.value);
    } else if (isPScalar(item) && typeof item.value === 'string') {
      const parts = item.value.split(':');
      // Windows drive letters are not a concern on Linux hosts; "a:b:mode".
      if (parts.length > 3 || parts.some((p) => p === '')) {
        problem(ctx, item.pos, `${w}: "${item.value}" is not a valid volume (source:target[:mode])`);
        return;
      }
      if (parts.length === 1) {
        m = { type: 'volume', target: parts[0]!, readOnly: false, pos: item.pos };
      } else {
        const [source, target, mode] = parts as [string, string, string | undefined];
        const kind = mountSource(ctx, source);
        const modes = (mode ?? '').split(',').filter(Boolean);
        for (const md of modes) {
          if (!['ro', 'rw', 'z', 'Z', 'cached', 'delegated', 'consistent', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(md)) {
            problem(ctx, item.pos, `${w}: unknown volume mode "${md}"`);
          }
        }
        m = { type: kind.type, source: kind.abs ?? source, sourceText: source, target, readOnly: modes.includes('ro'), pos: item.pos };
      }
    } else {
      problem(ctx, item.pos, `${w} must be a "source:target" string or a mapping, not ${describe(item)}`);
      return;
    }
    if (!m.target.startsWith('/')) {
      problem(ctx, m.pos, `${w}: the container path "${m.target}" must be absolute`);
      return;
    }
    if (m.type === 'volume' && m.source !== undefined && !declared.has(m.source)) {
      problem(ctx, m.pos, `${w}: volume "${m.source}" is not declared under the top-level volumes key`);
      return;
    }
    // Only paths inside the project are looked at: what the host has elsewhere must not change the output.
    if (m.type === 'bind' && m.source) m.hostKind = inside(ctx.dir, m.source) ? hostKind(m.source) : 'host';
    out.push(m);
  });
  return out;
}

function secretRefs(kind: 'secrets' | 'configs', n: PNode | undefined, where: string, ctx: NormalizeContext, defs: FileObject[]): ServiceSecretRef[] {
  const names = new Set(defs.map((d) => d.name));
  const out: ServiceSecretRef[] = [];
  listItems(n, where, ctx).forEach((item, k) => {
    const w = `${where}[${k}]`;
    let ref: ServiceSecretRef | undefined;
    if (isPMap(item)) {
      checkKeys(item, w, ['source', 'target', 'uid', 'gid', 'mode'], ctx);
      const source = scalarString(item.entries.get('source')?.value, `${w}.source`, ctx);
      if (!source) {
        problem(ctx, item.pos, `${w}: source is required`);
        return;
      }
      const modeNode = item.entries.get('mode')?.value;
      let mode: number | undefined;
      if (modeNode && isPScalar(modeNode)) mode = typeof modeNode.value === 'number' ? (/^0[0-7]+$/.test(modeNode.raw) ? parseInt(modeNode.raw, 8) : modeNode.value) : parseInt(String(modeNode.value), 8);
      ref = { source, target: scalarString(item.entries.get('target')?.value, `${w}.target`, ctx) ?? source, mode, pos: item.pos };
    } else {
      const source = scalarString(item, w, ctx);
      if (!source) return;
      ref = { source, target: source, pos: item.pos };
    }
    if (!names.has(ref.source)) {
      problem(ctx, ref.pos, `${w}: ${kind === 'secrets' ? 'secret' : 'config'} "${ref.source}" is not declared under the top-level ${kind} key`);
      return;
    }
    out.push(ref);
  });
  return out;
}

function healthcheck(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  const m = mapOf(n, where, ctx);
  if (!m) return;
  checkKeys(m, where, ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'], ctx);
  if (scalarBool(m.entries.get('disable')?.value, `${where}.disable`, ctx)) {
    svc.healthcheckDisabled = true;
    return;
  }
  const test = m.entries.get('test')?.value;
  if (!test) {
    problem(ctx, m.pos, `${where}: test is required`);
    return;
  }
  let kind: Healthcheck['kind'];
  let command: string[];
  if (isPScalar(test) && typeof test.value === 'string') {
    kind = 'shell';
    command = [test.value];
  } else if (isPSeq(test) && test.items.length > 0) {
    const words = test.items.map((i, k) => scalarString(i, `${where}.test[${k}]`, ctx) ?? '');
    const head = words[0];
    if (head === 'NONE') {
      svc.healthcheckDisabled = true;
      return;
    }
    if (head === 'CMD') {
      kind = 'exec';
      command = words.slice(1);
    } else if (head === 'CMD-SHELL') {
      kind = 'shell';
      command = [words.slice(1).join(' ')];
    } else {
      problem(ctx, test.items[0]!.pos, `${where}.test must start with CMD, CMD-SHELL or NONE, not "${head}"`);
      return;
    }
    if (command.length === 0 || command[0] === '') {
      problem(ctx, test.pos, `${where}.test has no command after ${head}`);
      return;
    }
  } else {
    problem(ctx, test.pos, `${where}.test must be a string or a list, not ${describe(test)}`);
    return;
  }
  const d = (k: string) => duration(m.entries.get(k)?.value, `${where}.${k}`, ctx);
  svc.healthcheck = {
    kind,
    command,
    intervalSeconds: d('interval') ?? 30,
    timeoutSeconds: d('timeout') ?? 30,
    retries: scalarInt(m.entries.get('retries')?.value, `${where}.retries`, ctx, 1) ?? 3,
    startPeriodSeconds: d('start_period'),
    startIntervalSeconds: d('start_interval'),
    pos: m.pos,
  };
}

const CONDITIONS: DependencyCondition[] = ['service_started', 'service_healthy', 'service_completed_successfully'];

function dependsOn(n: PNode | undefined, where: string, ctx: NormalizeContext): Dependency[] {
  if (!n) return [];
  if (isPSeq(n)) {
    return n.items
      .map((i, k) => ({ name: scalarString(i, `${where}[${k}]`, ctx), pos: i.pos }))
      .filter((x): x is { name: string; pos: SourcePos } => x.name !== undefined)
      .map((x) => ({ service: x.name, condition: 'service_started', required: true, pos: x.pos }));
  }
  if (!isPMap(n)) {
    problem(ctx, n.pos, `${where} must be a list or a mapping, not ${describe(n)}`);
    return [];
  }
  const out: Dependency[] = [];
  for (const [name, e] of n.entries) {
    const spec = mapOf(e.value, `${where}.${name}`, ctx);
    let condition: DependencyCondition = 'service_started';
    let required = true;
    if (spec) {
      checkKeys(spec, `${where}.${name}`, ['condition', 'required', 'restart'], ctx);
      const c = scalarString(spec.entries.get('condition')?.value, `${where}.${name}.condition`, ctx);
      if (c !== undefined) {
        if (CONDITIONS.includes(c as DependencyCondition)) condition = c as DependencyCondition;
        else problem(ctx, spec.entries.get('condition')!.value.pos, `${where}.${name}.condition must be one of ${CONDITIONS.join(', ')}, not "${c}"`);
      }
      required = scalarBool(spec.entries.get('required')?.value, `${where}.${name}.required`, ctx) ?? true;
    }
    out.push({ service: name, condition, required, pos: e.keyPos });
  }
  return out;
}

const RESTARTS: RestartPolicy[] = ['no', 'always', 'on-failure', 'unless-stopped'];

function restart(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  if (!n) return;
  // `restart: no` unquoted is the boolean false in YAML 1.1 eyes; Compose accepts both.
  if (isPScalar(n) && n.value === false) {
    svc.restart = 'no';
    return;
  }
  const text = scalarString(n, where, ctx);
  if (text === undefined) return;
  const [policy, attempts] = text.split(':');
  if (!RESTARTS.includes(policy as RestartPolicy) || (attempts !== undefined && (policy !== 'on-failure' || !/^\d+$/.test(attempts)))) {
    problem(ctx, n.pos, `${where} must be no, always, on-failure[:N] or unless-stopped, not "${text}"`);
    return;
  }
  svc.restart = policy as RestartPolicy;
  if (attempts !== undefined) svc.maxRestartAttempts = Number(attempts);
}

function resources(n: PNode | undefined, where: string, ctx: NormalizeContext): ResourceSpec {
  const m = mapOf(n, where, ctx);
  const out: ResourceSpec = {};
  if (!m) return out;
  checkKeys(m, where, ['cpus', 'memory', 'pids', 'devices', 'generic_resources'], ctx);
  const cpus = m.entries.get('cpus')?.value;
  if (cpus) {
    const text = isPScalar(cpus) ? String(cpus.value) : '';
    if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) problem(ctx, cpus.pos, `${where}.cpus must be a positive number like 0.5, not ${describe(cpus)}`);
    else out.cpus = text;
  }
  const memory = m.entries.get('memory')?.value;
  if (memory) {
    const bytes = isPScalar(memory) && (typeof memory.value === 'string' || typeof memory.value === 'number') ? parseBytes(memory.value) : undefined;
    if (bytes === undefined) problem(ctx, memory.pos, `${where}.memory must be a size like 512M, not ${describe(memory)}`);
    else out.memoryBytes = bytes;
  }
  for (const k of ['devices', 'generic_resources', 'pids']) {
    const e = m.entries.get(k);
    if (e) warn(ctx, e.keyPos, `${where}.${k}: no Kubernetes equivalent in a plain pod spec; ignored`);
  }
  return out;
}

function deploy(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  const m = mapOf(n, where, ctx);
  if (!m) return;
  checkKeys(m, where, ['mode', 'replicas', 'labels', 'resources', 'update_config', 'rollback_config', 'restart_policy', 'placement', 'endpoint_mode'], ctx);
  const mode = scalarString(m.entries.get('mode')?.value, `${where}.mode`, ctx);
  if (mode !== undefined) {
    if (mode === 'global') svc.mode = 'global';
    else if (mode === 'replicated-job' || mode === 'global-job') {
      warn(ctx, m.entries.get('mode')!.keyPos, `${where}.mode ${mode}: generated as a Job`);
      svc.restart = svc.restart ?? 'on-failure';
    } else if (mode !== 'replicated') problem(ctx, m.entries.get('mode')!.value.pos, `${where}.mode must be replicated or global, not "${mode}"`);
  }
  const replicas = scalarInt(m.entries.get('replicas')?.value, `${where}.replicas`, ctx);
  if (replicas !== undefined) svc.replicas = replicas;
  svc.deployLabels = stringMap(m.entries.get('labels')?.value, `${where}.labels`, ctx);
  const res = mapOf(m.entries.get('resources')?.value, `${where}.resources`, ctx);
  if (res) {
    checkKeys(res, `${where}.resources`, ['limits', 'reservations'], ctx);
    svc.limits = resources(res.entries.get('limits')?.value, `${where}.resources.limits`, ctx);
    svc.reservations = resources(res.entries.get('reservations')?.value, `${where}.resources.reservations`, ctx);
  }
  const upd = mapOf(m.entries.get('update_config')?.value, `${where}.update_config`, ctx);
  if (upd) {
    checkKeys(upd, `${where}.update_config`, ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order'], ctx);
    const order = scalarString(upd.entries.get('order')?.value, `${where}.update_config.order`, ctx) ?? 'stop-first';
    if (order !== 'start-first' && order !== 'stop-first') problem(ctx, upd.entries.get('order')!.value.pos, `${where}.update_config.order must be start-first or stop-first, not "${order}"`);
    const policy: UpdatePolicy = { order: order === 'start-first' ? 'start-first' : 'stop-first' };
    const par = scalarInt(upd.entries.get('parallelism')?.value, `${where}.update_config.parallelism`, ctx);
    if (par !== undefined && par > 0) policy.parallelism = par;
    for (const k of ['delay', 'failure_action', 'monitor', 'max_failure_ratio']) {
      const e = upd.entries.get(k);
      if (e) warn(ctx, e.keyPos, `${where}.update_config.${k}: Kubernetes rolling updates have no ${k}; ignored (see minReadySeconds and progressDeadlineSeconds)`);
    }
    svc.update = policy;
  }
  const rb = m.entries.get('rollback_config');
  if (rb) warn(ctx, rb.keyPos, `${where}.rollback_config: Kubernetes rolls back with \`kubectl rollout undo\`; ignored`);
  const rp = mapOf(m.entries.get('restart_policy')?.value, `${where}.restart_policy`, ctx);
  if (rp) {
    checkKeys(rp, `${where}.restart_policy`, ['condition', 'delay', 'max_attempts', 'window'], ctx);
    const cond = scalarString(rp.entries.get('condition')?.value, `${where}.restart_policy.condition`, ctx);
    if (cond !== undefined) {
      const map: Record<string, RestartPolicy> = { none: 'no', 'on-failure': 'on-failure', any: 'always' };
      if (map[cond]) svc.restart = map[cond]!;
      else problem(ctx, rp.entries.get('condition')!.value.pos, `${where}.restart_policy.condition must be none, on-failure or any, not "${cond}"`);
    }
    const attempts = scalarInt(rp.entries.get('max_attempts')?.value, `${where}.restart_policy.max_attempts`, ctx);
    if (attempts !== undefined) svc.maxRestartAttempts = attempts;
  }
  const placement = mapOf(m.entries.get('placement')?.value, `${where}.placement`, ctx);
  if (placement) {
    checkKeys(placement, `${where}.placement`, ['constraints', 'preferences', 'max_replicas_per_node'], ctx);
    const list = placement.entries.get('constraints')?.value;
    stringList(list, `${where}.placement.constraints`, ctx).forEach((c, k) => {
      const pos = isPSeq(list) ? (list.items[k]?.pos ?? list.pos) : list!.pos;
      const pc = constraint(c, pos);
      if (pc) svc.placement.push(pc);
      else warn(ctx, pos, `${where}.placement.constraints: "${c}" has no Kubernetes equivalent; ignored`);
    });
    for (const k of ['preferences', 'max_replicas_per_node']) {
      const e = placement.entries.get(k);
      if (e) warn(ctx, e.keyPos, `${where}.placement.${k}: replicas are spread across nodes with topologySpreadConstraints instead`);
    }
  }
}

/** Swarm placement constraints that name node labels or hostnames -> node affinity terms. */
export function constraint(text: string, pos: SourcePos): PlacementConstraint | undefined {
  const m = /^\s*([\w.\-/]+)\s*(==|!=)\s*(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  const [, field, op, value] = m as unknown as [string, string, string, string];
  const operator = op === '==' ? 'In' : 'NotIn';
  if (field.startsWith('node.labels.')) return { key: field.slice('node.labels.'.length), operator, value, pos };
  if (field === 'node.hostname') return { key: 'kubernetes.io/hostname', operator, value, pos };
  if (field === 'node.platform.os') return { key: 'kubernetes.io/os', operator, value, pos };
  if (field === 'node.platform.arch') return { key: 'kubernetes.io/arch', operator, value: value === 'x86_64' ? 'amd64' : value === 'aarch64' ? 'arm64' : value, pos };
  if (field === 'node.role') return { key: 'node-role.kubernetes.io/control-plane', operator: value === 'manager' ? operator : operator === 'In' ? 'NotIn' : 'In', value: '', pos };
  return undefined;
}

function legacyResources(svc: Service, n: PMap, where: string, ctx: NormalizeContext): void {
  const cpus = n.entries.get('cpus')?.value;
  if (cpus && svc.limits.cpus === undefined) {
    const text = isPScalar(cpus) ? String(cpus.value) : '';
    if (/^\d+(\.\d+)?$/.test(text) && Number(text) > 0) svc.limits.cpus = text;
    else problem(ctx, cpus.pos, `${where}.cpus must be a positive number like 0.5, not ${describe(cpus)}`);
  }
  for (const [key, target] of [['mem_limit', svc.limits], ['mem_reservation', svc.reservations]] as const) {
    const node = n.entries.get(key)?.value;
    if (!node || target.memoryBytes !== undefined) continue;
    const bytes = isPScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? parseBytes(node.value) : undefined;
    if (bytes === undefined) problem(ctx, node.pos, `${where}.${key} must be a size like 512m, not ${describe(node)}`);
    else target.memoryBytes = bytes;
  }
}

/** `x-stackport: { autoscale: { min, max, cpu } }` (Compose ignores `x-` keys; we do not). */
function autoscale(svc: Service, n: PNode | undefined, where: string, ctx: NormalizeContext): void {
  const ext = mapOf(n, where, ctx);
  if (!ext) return;
  checkKeys(ext, where, ['autoscale'], ctx);
  const entry = ext.entries.get('autoscale');
  const a = mapOf(entry?.value, `${where}.autoscale`, ctx);
  if (!a || !entry) return;
  const at = `${where}.autoscale`;
  checkKeys(a, at, ['min', 'max', 'cpu'], ctx);
  const node = (k: string) => a.entries.get(k)?.value;
  const problemsBefore = ctx.problems.length;
  const min = scalarInt(node('min'), `${at}.min`, ctx, 1) ?? 1;
  const max = scalarInt(node('max'), `${at}.max`, ctx, 1);
  const cpu = scalarInt(node('cpu'), `${at}.cpu`, ctx, Number.MIN_SAFE_INTEGER) ?? 80;
  if (!node('max')) problem(ctx, a.pos, `${at}.max is required (the most replicas the autoscaler may run)`);
  if (cpu < 1 || cpu > 100) problem(ctx, node('cpu')!.pos, `${at}.cpu must be a utilisation percentage between 1 and 100, not ${cpu}`);
  if (max !== undefined && min > max) problem(ctx, node('min')!.pos, `${at}.min (${min}) must not exceed max (${max})`);
  if (svc.mode === 'global') problem(ctx, entry.keyPos, `${at}: a global service runs one pod per node and cannot be autoscaled`);
  if (ctx.problems.length > problemsBefore || max === undefined) return;
  if (svc.replicas !== 1 && (svc.replicas < min || svc.replicas > max)) {
    warn(ctx, entry.keyPos, `${at}: replicas ${svc.replicas} is outside min..max (${min}..${max}); the autoscaler keeps the count between them`);
  }
  svc.autoscale = { min, max, cpu, pos: entry.keyPos };
}

function serviceNetworks(n: PNode | undefined, where: string, ctx: NormalizeContext, defs: NetworkDef[]): string[] {
  if (!n) return ['default'];
  const names = new Set(['default', ...defs.map((d) => d.name)]);
  const out: string[] = [];
  const add = (name: string, pos: SourcePos) => {
    if (!names.has(name)) problem(ctx, pos, `${where}: network "${name}" is not declared under the top-level networks key`);
    else out.push(name);
  };
  if (isPSeq(n)) n.items.forEach((i, k) => {
    const s = scalarString(i, `${where}[${k}]`, ctx);
    if (s !== undefined) add(s, i.pos);
  });
  else if (isPMap(n)) {
    for (const [name, e] of n.entries) {
      add(name, e.keyPos);
      const spec = mapOf(e.value, `${where}.${name}`, ctx);
      if (!spec) continue;
      for (const k of ['ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'priority', 'gw_priority', 'driver_opts']) {
        const x = spec.entries.get(k);
        if (x) warn(ctx, x.keyPos, `${where}.${name}.${k}: pod addresses come from the cluster's network plugin; ignored`);
      }
      const aliases = spec.entries.get('aliases');
      if (aliases) warn(ctx, aliases.keyPos, `${where}.${name}.aliases: only the service name resolves in the cluster; aliases ignored`);
    }
  } else problem(ctx, n.pos, `${where} must be a list or a mapping, not ${describe(n)}`);
  return out.sort();
}

function checkDependencies(all: Service[], active: Service[], ctx: NormalizeContext): void {
  const byName = new Map(all.map((s) => [s.name, s]));
  const activeNames = new Set(active.map((s) => s.name));
  for (const s of active) {
    s.dependsOn = s.dependsOn.filter((d) => {
      const target = byName.get(d.service);
      if (!target) {
        if (d.required) problem(ctx, d.pos, `services.${s.name}.depends_on: unknown service "${d.service}"`);
        return false;
      }
      if (!activeNames.has(d.service)) {
        if (d.required) problem(ctx, d.pos, `services.${s.name}.depends_on: service "${d.service}" is not enabled by the selected profiles (it needs --profile ${target.profiles[0]})`);
        return false;
      }
      if (d.condition === 'service_healthy' && !target.healthcheck) {
        warn(ctx, d.pos, `services.${s.name}.depends_on.${d.service}: service_healthy but "${d.service}" has no healthcheck; waiting until its Service accepts connections`);
      }
      return true;
    });
  }
  // Cycles: depth-first search over active services, reported once per cycle at its first edge.
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: { name: string; dep?: Dependency }[] = [];
  const reported = new Set<string>();
  const byActive = new Map(active.map((s) => [s.name, s]));
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    for (const d of byActive.get(name)?.dependsOn ?? []) {
      stack.push({ name, dep: d });
      if (state.get(d.service) === 'visiting') {
        const start = stack.findIndex((f) => f.name === d.service);
        const cycle = stack.slice(start);
        const names = [...cycle.map((f) => f.name), d.service];
        const key = [...names.slice(0, -1)].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          problem(ctx, cycle[0]!.dep!.pos, `services.${cycle[0]!.name}.depends_on: dependency cycle ${names.join(' -> ')}`);
        }
      } else if (!state.has(d.service)) visit(d.service);
      stack.pop();
    }
    state.set(name, 'done');
  };
  for (const s of active) if (!state.has(s.name)) visit(s.name);
}
