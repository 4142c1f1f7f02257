/**
 * A real image registry for the clusters: the CNCF distribution registry (Debian's
 * `docker-registry` package, built on the stackport Debian base, compose/images/registry/) run
 * as one container with a named volume on 127.0.0.1:5001, or the user's own
 * (`--registry host[:port][/prefix]`).
 *
 * Images are pushed (docker push sends only the layers the registry lacks) and manifests name
 * them by digest: a rebuilt tag gets a new digest and rolls its pods; an unchanged one keeps the
 * same reference and changes nothing. The local providers are wired the way kind documents it
 * (KEP-1755): a containerd `hosts.toml` under `certs.d` per registry host, and the
 * `local-registry-hosting` ConfigMap in kube-public.
 */
import path from 'node:path';
import { StackportError } from '../../errors.js';
import { probe, run } from '../../exec/run.js';
import { waitFor } from '../../exec/wait.js';
import { hostCmder, type Cmder } from '../../exec/actions.js';
import type { Progress } from '../../ui/progress.js';
import { DEBIAN_BASE, baseRecipe, ensureDebianBase, imageExists, recipeHash, recipeLabels } from '../../engine/images.js';

export const REGISTRY_IMAGE = 'stackport/registry:2-bookworm';
export const REGISTRY_CONTAINER = process.env.STACKPORT_REGISTRY_CONTAINER ?? 'stackport-registry';
export const REGISTRY_VOLUME = `${REGISTRY_CONTAINER}-data`;
export const REGISTRY_HOST_PORT = Number(process.env.STACKPORT_REGISTRY_PORT ?? 5001);
/** The name images get in manifests for the local registry (kind's convention: localhost:<port>). */
export const LOCAL_REGISTRY = `localhost:${REGISTRY_HOST_PORT}`;
/** Port the registry listens on inside its container (and on the kind network). */
export const REGISTRY_CONTAINER_PORT = 5000;

export interface RegistryRef {
  /** host[:port] as images name it */
  host: string;
  /** path prefix under the host (no leading or trailing slash), may be empty */
  prefix: string;
}

const HOST_RE = /^(?:localhost|\[[0-9a-f:]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/i;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** `host[:port][/prefix]` → a RegistryRef; a bad one is the user's mistake (exit 2). */
export function parseRegistry(spec: string): RegistryRef {
  const s = spec.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const [host = '', ...rest] = s.split('/');
  const bad = (why: string) =>
    new StackportError(`--registry ${spec}: ${why}`, { hint: 'use host[:port][/prefix], e.g. --registry localhost:5001 or --registry registry.example.com/team', exitCode: 2 });
  const m = HOST_RE.exec(host);
  if (!host || !m) throw bad('not a registry host');
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) throw bad(`port ${m[1]} is out of range`);
  for (const c of rest) if (!PATH_COMPONENT_RE.test(c)) throw bad(`"${c}" is not a valid repository path component (lower case letters, digits, . _ -)`);
  return { host: host.toLowerCase(), prefix: rest.join('/') };
}

export function formatRegistry(r: RegistryRef): string {
  return r.prefix ? `${r.host}/${r.prefix}` : r.host;
}

/** The repository an engine image gets in the registry: its path without any registry host. */
export function registryRepository(image: string, r: RegistryRef): { repository: string; tag: string } {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(':');
  const hasTag = colon > noDigest.lastIndexOf('/');
  const name = hasTag ? noDigest.slice(0, colon) : noDigest;
  const tag = hasTag ? noDigest.slice(colon + 1) : 'latest';
  const parts = name.split('/');
  const first = parts[0]!;
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const path = (hasHost ? parts.slice(1) : parts).join('/').toLowerCase();
  return { repository: `${formatRegistry(r)}/${path}`, tag };
}

const DIGEST_REF = /^(.+)@sha256:[0-9a-f]{64}$/;

/** Whether a pod spec names its image by digest (`…@sha256:…`). */
export function isDigestRef(ref: string): boolean {
  return DIGEST_REF.test(ref);
}

/**
 * The registry a pod spec's `repository@sha256:…` reference was pushed to, when it is `image`
 * pushed by pushImages (its repository is registryRepository(image, r) for some r); undefined for
 * a reference by tag, or a digest of some other repository.
 */
export function pinnedRegistry(ref: string, image: string): RegistryRef | undefined {
  const m = DIGEST_REF.exec(ref);
  if (!m) return undefined;
  const repository = m[1]!;
  const own = registryRepository(image, { host: 'h', prefix: '' }).repository.slice('h/'.length);
  if (!repository.endsWith(`/${own}`)) return undefined;
  try {
    return parseRegistry(repository.slice(0, -own.length - 1));
  } catch {
    return undefined;
  }
}

/** The digest `docker push` reports (`<tag>: digest: sha256:… size: N`). */
export function pushedDigest(output: string): string | undefined {
  const all = [...output.matchAll(/digest: (sha256:[0-9a-f]{64})/g)];
  return all.at(-1)?.[1];
}

/** containerd hosts.toml for one registry host (containerd docs/hosts.md), plain HTTP to `endpoint`. */
export function hostsToml(registryHost: string, endpoint: string): string {
  return `# written by stackport (src/cluster/registry.ts): pulls of ${registryHost}/* go to ${endpoint}
server = "${endpoint}"

[host."${endpoint}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
`;
}

/** KEP-1755's ConfigMap: tells tools in the cluster where the local registry is. */
export function localRegistryHostingConfigMap(host: string, fromContainerRuntime: string, fromClusterNetwork?: string): object {
  const value = [`host: "${host}"`, `hostFromContainerRuntime: "${fromContainerRuntime}"`];
  if (fromClusterNetwork) value.push(`hostFromClusterNetwork: "${fromClusterNetwork}"`);
  value.push('help: "https://kind.sigs.k8s.io/docs/user/local-registry/"');
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'local-registry-hosting', namespace: 'kube-public', labels: { 'app.kubernetes.io/managed-by': 'stackport' } },
    data: { 'localRegistryHosting.v1': `${value.join('\n')}\n` },
  };
}

// ---------------------------------------------------------------- the local registry

export interface RegistryStatus {
  state: 'running' | 'stopped' | 'absent';
  url: string;
  image?: string;
  volume?: string;
  repositories?: string[];
  problems: string[];
}

async function docker(args: string[], what?: string) {
  return run(['docker', ...args], { what: what ?? `docker ${args.slice(0, 2).join(' ')}`, timeoutMs: 600_000 });
}

/** Builds stackport/registry from compose/images/registry (recipe-hashed, like the drop-ins). */
export async function ensureRegistryImage(repoRoot: string, cacheDir: string, progress: Progress): Promise<void> {
  const dir = path.join(repoRoot, 'compose', 'images', 'registry');
  const hash = recipeHash(dir, [baseRecipe()]);
  if ((await recipeLabels([REGISTRY_IMAGE])).get(REGISTRY_IMAGE) === hash) return;
  await ensureDebianBase(cacheDir, progress);
  await progress.step(`build ${REGISTRY_IMAGE} (Debian docker-registry)`, () =>
    run(['docker', 'build', '-q', '--build-arg', `BASE=${DEBIAN_BASE}`, '--label', `org.stackport.recipe=${hash}`, '-t', REGISTRY_IMAGE, dir], {
      what: `docker build ${REGISTRY_IMAGE}`,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeoutMs: 900_000,
    }),
  );
}

export async function registryAnswersAt(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const r = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
    return r.status === 200 || r.status === 401;
  } catch {
    return false;
  }
}

const LOCAL_URL = `http://127.0.0.1:${REGISTRY_HOST_PORT}`;

/** Starts the local registry (idempotent): container restarts with dockerd, data in a named volume. */
export async function registryUp(repoRoot: string, cacheDir: string, progress: Progress): Promise<RegistryStatus> {
  await ensureRegistryImage(repoRoot, cacheDir, progress);
  const s = await registryStatus();
  if (s.state === 'running' && s.problems.length === 0) return s;
  if (s.state !== 'absent') await docker(['rm', '-f', REGISTRY_CONTAINER]);
  await progress.step(`start registry ${REGISTRY_CONTAINER} on 127.0.0.1:${REGISTRY_HOST_PORT}`, async () => {
    await docker([
      'run', '-d', '--name', REGISTRY_CONTAINER, '--restart', 'unless-stopped',
      '--label', 'org.stackport.role=registry',
      '-p', `127.0.0.1:${REGISTRY_HOST_PORT}:${REGISTRY_CONTAINER_PORT}`,
      '-v', `${REGISTRY_VOLUME}:/var/lib/registry`,
      REGISTRY_IMAGE,
    ], 'docker run registry');
    await waitFor(`the registry to answer on ${LOCAL_URL}/v2/`, () => registryAnswersAt(LOCAL_URL), { timeoutMs: 30_000, intervalMs: 200 });
  });
  return registryStatus();
}

/** Removes the container; the volume (the pushed images) stays unless `purge`. */
export async function registryDown(progress: Progress, purge = false): Promise<void> {
  await progress.step(`remove registry ${REGISTRY_CONTAINER}${purge ? ' and its volume' : ''}`, async () => {
    await probe(['docker', 'rm', '-f', REGISTRY_CONTAINER]);
    if (purge) await probe(['docker', 'volume', 'rm', REGISTRY_VOLUME]);
  });
}

export async function registryStatus(): Promise<RegistryStatus> {
  const r = await probe(['docker', 'inspect', '--format', '{{.State.Running}} {{.Config.Image}}', REGISTRY_CONTAINER]);
  if (r.exitCode !== 0) return { state: 'absent', url: LOCAL_URL, problems: [] };
  const [running, image] = r.stdout.trim().split(' ');
  const out: RegistryStatus = { state: running === 'true' ? 'running' : 'stopped', url: LOCAL_URL, image, volume: REGISTRY_VOLUME, problems: [] };
  if (out.state === 'running') {
    try {
      const cat = await fetch(`${LOCAL_URL}/v2/_catalog?n=1000`, { signal: AbortSignal.timeout(3000) });
      out.repositories = ((await cat.json()) as { repositories?: string[] }).repositories ?? [];
    } catch (e) {
      out.problems.push(`the container runs but ${LOCAL_URL}/v2/ does not answer: ${(e as Error).message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- delivery

export interface Pushed {
  image: string;
  /** repository@sha256:… as the manifests name it */
  ref: string;
  ms: number;
}

/**
 * Tags each engine image into the registry and pushes it; returns the digest reference. docker
 * push sends only the layers the registry does not have (an unchanged image costs one HEAD per
 * layer and the manifest).
 */
export async function pushImages(images: string[], registry: RegistryRef, progress: Progress, cmd: Cmder = hostCmder): Promise<Pushed[]> {
  const out: Pushed[] = [];
  for (const image of images) {
    if (!(await imageExists(image, cmd))) {
      throw new StackportError(`image ${image} is not in the Docker engine, so it cannot be pushed to ${formatRegistry(registry)}`, { hint: 'run `make up` (or build it) first' });
    }
    const { repository, tag } = registryRepository(image, registry);
    const t0 = Date.now();
    const r = await progress.step(`push ${image} -> ${repository}:${tag}`, async () => {
      await cmd.run(['docker', 'tag', image, `${repository}:${tag}`], { what: 'docker tag' });
      return cmd.run(['docker', 'push', `${repository}:${tag}`], {
        what: `docker push ${repository}:${tag}`,
        hint: `is the registry up? (npx zx scripts/cluster.mjs registry status); a registry other than localhost must be listed in dockerd's insecure-registries or serve TLS`,
        timeoutMs: 30 * 60_000,
      });
    });
    const digest = pushedDigest(r.stdout);
    if (!digest) throw new StackportError(`docker push ${repository}:${tag} reported no digest`, { details: r.stdout });
    out.push({ image, ref: `${repository}@${digest}`, ms: Date.now() - t0 });
  }
  return out;
}

/** The registry named by --registry or STACKPORT_REGISTRY (`local` = the local one), if any. */
export function configuredRegistry(flag?: string, env: NodeJS.ProcessEnv = process.env): RegistryRef | undefined {
  const spec = flag ?? env.STACKPORT_REGISTRY;
  if (!spec) return undefined;
  return parseRegistry(spec === 'local' ? LOCAL_REGISTRY : spec);
}

// ---------------------------------------------------------------- wiring the local clusters

/** The kubeadm cluster's containerd reads registry hosts here (containerd.ts config_path). */
export const CERTS_D = '/var/lib/stackport/containerd/certs.d';

export interface WiredRegistry {
  /** where hosts.toml files were written */
  files: string[];
  configMap: boolean;
}

/** kubeadm: the node is this host, so localhost:5001 is the registry's published port. */
export async function wireKubeadm(kubectl: { apply(yaml: string): Promise<unknown> }, certsDir = CERTS_D): Promise<WiredRegistry> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const dir = path.join(certsDir, LOCAL_REGISTRY);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'hosts.toml');
  await writeFile(file, hostsToml(LOCAL_REGISTRY, `http://127.0.0.1:${REGISTRY_HOST_PORT}`));
  await kubectl.apply(JSON.stringify(localRegistryHostingConfigMap(LOCAL_REGISTRY, LOCAL_REGISTRY)));
  return { files: [file], configMap: true };
}

/**
 * kind (its local-registry guide): the registry container joins the kind network, and each node's
 * containerd sends localhost:5001 to it by name (`stackport-registry:5000`).
 */
export async function wireKind(nodes: string[], kubectl: { apply(yaml: string): Promise<unknown> }, network = process.env.KIND_EXPERIMENTAL_DOCKER_NETWORK ?? 'kind'): Promise<WiredRegistry> {
  const inNet = await probe(['docker', 'inspect', '--format', `{{json .NetworkSettings.Networks}}`, REGISTRY_CONTAINER]);
  if (inNet.exitCode !== 0) throw new StackportError('the local registry is not running', { hint: 'npx zx scripts/cluster.mjs registry up' });
  if (!(JSON.parse(inNet.stdout || '{}') as Record<string, unknown>)[network]) await docker(['network', 'connect', network, REGISTRY_CONTAINER], 'docker network connect');
  const endpoint = `http://${REGISTRY_CONTAINER}:${REGISTRY_CONTAINER_PORT}`;
  const dir = `/etc/containerd/certs.d/${LOCAL_REGISTRY}`;
  const files: string[] = [];
  for (const n of nodes) {
    await run(['docker', 'exec', '-i', n, 'sh', '-c', `mkdir -p '${dir}' && cat > '${dir}/hosts.toml'`], { input: hostsToml(LOCAL_REGISTRY, endpoint), what: `hosts.toml on ${n}` });
    files.push(`${n}:${dir}/hosts.toml`);
  }
  await kubectl.apply(JSON.stringify(localRegistryHostingConfigMap(LOCAL_REGISTRY, endpoint.replace('http://', ''), `${REGISTRY_CONTAINER}:${REGISTRY_CONTAINER_PORT}`)));
  return { files, configMap: true };
}

/** Takes the local registry off the kind network (the cluster is going away); no-op when it is not on it. */
export async function unwireKind(network = process.env.KIND_EXPERIMENTAL_DOCKER_NETWORK ?? 'kind'): Promise<boolean> {
  const inNet = await probe(['docker', 'inspect', '--format', `{{json .NetworkSettings.Networks}}`, REGISTRY_CONTAINER]);
  if (inNet.exitCode !== 0 || !(JSON.parse(inNet.stdout || '{}') as Record<string, unknown>)[network]) return false;
  await docker(['network', 'disconnect', network, REGISTRY_CONTAINER], 'docker network disconnect');
  return true;
}

/** kind's local-registry guide: containerd in the nodes reads hosts.toml files from certs.d. */
export const KIND_CONTAINERD_PATCH = `[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"`;

/** A kind config with the certs.d patch added (unless it has one already). */
export function withRegistryPatch(kindConfig: string): string {
  if (kindConfig.includes('config_path')) return kindConfig;
  const patch = `containerdConfigPatches:\n  - |-\n${KIND_CONTAINERD_PATCH.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
  return /^containerdConfigPatches:/m.test(kindConfig)
    ? kindConfig.replace(/^containerdConfigPatches:\n/m, `containerdConfigPatches:\n  - |-\n${KIND_CONTAINERD_PATCH.split('\n').map((l) => `    ${l}`).join('\n')}\n`)
    : `${kindConfig.replace(/\n*$/, '\n')}${patch}`;
}
