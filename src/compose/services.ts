/**
 * One service: its keys (known, host-only) and the reading of each into the model.
 */
import path from 'node:path';
import { autoscale } from './extension.js';
import type { FileObject, NamedVolume, NetworkDef, Service, SourcePos } from '../model/app.js';
import { describe, isPMap, isPScalar, isPSeq, type PNode } from './source.js';
import { parseBytes } from './units.js';
import { dependsOn } from './dependencies.js';
import { deploy, legacyResources, restart } from './deploy.js';
import { environment } from './environment.js';
import { healthcheck } from './healthcheck.js';
import { serviceNetworks } from './networks.js';
import { exposed, ports } from './ports.js';
import { commandList, duration, type NormalizeContext, problem, scalarBool, scalarInt, scalarString, scalarText, stringList, warn, stringMap } from './readers.js';
import { secretRefs } from './secrets.js';
import { mounts } from './volumes.js';
import { serviceSmokeProblems } from '../smoke/declarations.js';

export const SERVICE_KEYS = new Set(
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
export const HOST_ONLY: Record<string, string> = {
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

// ---------- top-level objects ----------

export interface TopLevel {
  volumes: NamedVolume[];
  networks: NetworkDef[];
  secrets: FileObject[];
  configs: FileObject[];
}

// ---------- services ----------

export function service(name: string, pos: SourcePos, n: PNode, ctx: NormalizeContext, top: TopLevel): Service | undefined {
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
    if (isPScalar(build)) svc.build = { context: scalarString(build, `${where}.build`, ctx) ?? '.', args: {} };
    else if (isPMap(build)) {
      svc.build = {
        context: scalarString(build.entries.get('context')?.value, `${where}.build.context`, ctx) ?? '.',
        dockerfile: scalarString(build.entries.get('dockerfile')?.value, `${where}.build.dockerfile`, ctx),
        args: buildArgs(build.entries.get('args')?.value, `${where}.build.args`, ctx),
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
    svc.defaultImageName = true;
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
  // As in Compose: `links`, `volumes_from: [service]` and `network_mode: service:x` imply a dependency (service_started).
  const implied: { name: string; pos: SourcePos }[] = [];
  for (const [key, at] of [['links', e('links')], ['volumes_from', e('volumes_from')]] as const) {
    if (!at || !isPSeq(at.value)) continue;
    for (const item of at.value.items) {
      if (!isPScalar(item) || typeof item.value !== 'string') continue;
      const text = item.value;
      if (key === 'links') implied.push({ name: text.split(':')[0]!, pos: item.pos });
      else if (!text.startsWith('container:')) implied.push({ name: text.replace(/^service:/, '').split(':')[0]!, pos: item.pos });
    }
  }
  const mode = v('network_mode');
  if (mode && isPScalar(mode) && typeof mode.value === 'string' && mode.value.startsWith('service:')) implied.push({ name: mode.value.slice('service:'.length), pos: mode.pos });
  for (const d of implied) {
    if (!svc.dependsOn.some((x) => x.service === d.name)) svc.dependsOn.push({ service: d.name, condition: 'service_started', required: true, pos: d.pos });
  }
  restart(svc, v('restart'), `${where}.restart`, ctx);
  deploy(svc, v('deploy'), `${where}.deploy`, ctx);
  const scale = v('scale');
  if (scale && !v('deploy')) svc.replicas = scalarInt(scale, `${where}.scale`, ctx) ?? 1;
  legacyResources(svc, n, where, ctx);
  autoscale(svc, v('x-stackport'), `${where}.x-stackport`, ctx);
  ctx.problems.push(...serviceSmokeProblems(v('x-stackport'), name, `${where}.x-stackport`));
  svc.labels = { ...stringMap(v('labels'), `${where}.labels`, ctx), ...stringMap(v('annotations'), `${where}.annotations`, ctx) };
  svc.networks = serviceNetworks(v('networks'), `${where}.networks`, ctx, top.networks);
  if (e('pull_policy') && /^(always|build)$/.test(scalarString(v('pull_policy'), `${where}.pull_policy`, ctx) ?? '')) {
    warn(ctx, e('pull_policy')!.keyPos, `${where}.pull_policy: the cluster has no registry; images use imagePullPolicy IfNotPresent`);
  }
  return svc;
}

/**
 * `build.args` (a mapping, or `KEY=value` strings) with their values interpolated; `KEY` alone (or
 * `KEY:` with no value) is taken from the environment as Compose does, and left out when it has none.
 */
function buildArgs(n: PNode | undefined, where: string, ctx: NormalizeContext): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    const v = value ?? ctx.env[key];
    if (v !== undefined) out[key] = v;
  };
  if (!n || (isPScalar(n) && n.value === null)) return out;
  if (isPMap(n)) {
    for (const [key, e] of n.entries) {
      if (isPScalar(e.value)) set(key, e.value.value === null ? undefined : scalarText(e.value));
      else problem(ctx, e.value.pos, `${where}.${key} must be a string, number or boolean, not ${describe(e.value)}`);
    }
  } else if (isPSeq(n)) {
    n.items.forEach((i, k) => {
      if (!isPScalar(i) || typeof i.value !== 'string') {
        problem(ctx, i.pos, `${where}[${k}] must be a "KEY=value" string, not ${describe(i)}`);
        return;
      }
      const eq = i.value.indexOf('=');
      if (eq < 0) set(i.value, undefined);
      else set(i.value.slice(0, eq), i.value.slice(eq + 1));
    });
  } else {
    problem(ctx, n.pos, `${where} must be a mapping or a list of "KEY=value" strings, not ${describe(n)}`);
  }
  return out;
}
