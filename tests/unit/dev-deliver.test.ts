import type { ClusterProvider } from '../../src/cluster/providers/provider.js';
import { pinnedRegistry } from '../../src/cluster/addons/registry.js';
import { ClusterDevTarget } from '../../src/dev/cluster-target.js';
import { deliveryRegistry } from '../../src/dev/deliver.js';
import { parseDevArgs } from '../../src/dev/dev.js';
import type { DevService } from '../../src/dev/target.js';
import { IMAGE_IDS_ANNOTATION, imageIdsDigest } from '../../src/migrate/image-stamp.js';
import type { Stack } from '../../src/stack/stack.js';
import { FakeCmder } from './helpers/fake-cmder.js';
import { FakeKubectl } from './helpers/fake-kubectl.js';

/**
 * A rebuilt image on the cluster (src/dev/cluster-target.ts rebuild, src/dev/deliver.ts): through
 * the registry the workload pulls from (push, the container set to the new digest), or into the
 * nodes (loadImages, the tag stamped with the new image ID). kubectl and docker go through a
 * FakeCmder; the build and the provider are fakes that record what they were asked.
 */
const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;
const WEB: DevService = { name: 'web', context: '/ctx/web', dockerfile: 'Dockerfile', args: {}, image: 'stackport-web:1' };

function deployment(image: string, annotations: Record<string, string> = {}): string {
  return JSON.stringify({ spec: { template: { metadata: { annotations }, spec: { containers: [{ name: 'web', image }] } } } });
}

interface World {
  target: ClusterDevTarget;
  cmd: FakeCmder;
  loaded: string[][];
}

/** A cluster whose deployment/web names `image`; `before`/`after`: the engine image IDs around the build. */
function world(image: string, o: { registry?: string; before?: string; after?: string; pushed?: string; annotations?: Record<string, string> } = {}): World {
  const cmd = new FakeCmder([
    { match: /kubectl .* get deployment\/web -n default -o json$/, stdout: deployment(image, o.annotations) },
    { match: /kubectl .* get pods .* -o json$/, stdout: JSON.stringify({ items: [] }) },
    { match: /^docker image inspect/, stdout: 'sha256:engine\n' },
    { match: /^docker push /, stdout: `1: digest: ${o.pushed ?? NEW} size: 1234\n` },
  ]);
  const loaded: string[][] = [];
  const provider = {
    name: 'kubeadm',
    loadImages: async (images: string[]) => {
      loaded.push(images);
      return images;
    },
  } as unknown as ClusterProvider;
  const target = new ClusterDevTarget({
    stack: { project: 'demo' } as Stack,
    provider,
    kubectl: new FakeKubectl(cmd),
    namespace: 'default',
    entry: 'http://127.0.0.1:1',
    registry: o.registry ? pinnedRegistry(`${o.registry}/stackport-web@${OLD}`, WEB.image) : undefined,
    cmd,
    build: async () => ({ before: o.before ?? 'id-1', after: o.after ?? 'id-2' }),
  });
  return { target, cmd, loaded };
}

/** The pod template the roll patched in, parsed. */
function patched(cmd: FakeCmder): { metadata?: { annotations?: Record<string, string> }; spec: { containers: { name: string; image: string }[] } } {
  const line = cmd.calls.find((c) => / patch deployment\/web /.test(c));
  if (!line) throw new Error(`no patch among:\n${cmd.calls.join('\n')}`);
  return JSON.parse(line.slice(line.indexOf('{'))).spec.template;
}

describe('a workload pinned by digest (migrate --registry, k8s.mjs update --registry)', () => {
  test('the rebuilt image is pushed to that registry and the container set to the new digest; nothing is loaded into the nodes', async () => {
    const w = world(`localhost:5001/stackport-web@${OLD}`);
    const rolled = await w.target.rebuild(WEB, () => undefined);
    expect(w.cmd.ran(/^docker tag stackport-web:1 localhost:5001\/stackport-web:1$/)).toBe(1);
    expect(w.cmd.ran(/^docker push localhost:5001\/stackport-web:1$/)).toBe(1);
    expect(patched(w.cmd).spec.containers).toEqual([{ name: 'web', image: `localhost:5001/stackport-web@${NEW}` }]);
    expect(w.cmd.ran(/rollout status deployment\/web/)).toBe(1);
    expect(w.loaded).toEqual([]);
    expect(rolled.did).toMatch(/^pushed to localhost:5001 \(sha256:bbbbbbbbbbbb\), deployment\/web rolled$/);
  });

  test('a registry with a path prefix is followed too', async () => {
    const w = world(`registry.example.com/team/stackport-web@${OLD}`);
    await w.target.rebuild(WEB, () => undefined);
    expect(w.cmd.ran(/^docker push registry\.example\.com\/team\/stackport-web:1$/)).toBe(1);
    expect(patched(w.cmd).spec.containers[0]!.image).toBe(`registry.example.com/team/stackport-web@${NEW}`);
  });

  test('the same digest again (nothing changed in the image): pushed, nothing rolled', async () => {
    const w = world(`localhost:5001/stackport-web@${OLD}`, { pushed: OLD, before: 'id-1', after: 'id-1' });
    const rolled = await w.target.rebuild(WEB, () => undefined);
    expect(rolled.did).toBe('image unchanged (same digest), nothing to roll');
    expect(w.cmd.ran(/ patch /)).toBe(0);
    expect(w.cmd.ran(/rollout/)).toBe(0);
  });

  test('a digest of another repository, and no --registry: refused before anything is pushed or changed', async () => {
    const w = world(`quay.io/someone/else@${OLD}`);
    await expect(w.target.rebuild(WEB, () => undefined)).rejects.toThrow(/names its image by digest .* not as a push of stackport-web:1/);
    expect(w.cmd.ran(/^docker (tag|push)/)).toBe(0);
    expect(w.cmd.ran(/ patch /)).toBe(0);
    expect(w.loaded).toEqual([]);
  });

  test('a failed push changes nothing on the cluster, and there is nothing to undo', async () => {
    const w = world(`localhost:5001/stackport-web@${OLD}`);
    w.cmd.on({ match: /^docker push /, exitCode: 1, stderr: 'connection refused' });
    await expect(w.target.rebuild(WEB, () => undefined)).rejects.toThrow(/docker push localhost:5001\/stackport-web:1/);
    expect(w.cmd.ran(/ patch /)).toBe(0);
    await w.target.undo(WEB);
    expect(w.cmd.ran(/rollout undo/)).toBe(0);
  });

  test('new pods that do not get ready: rollout undo puts the previous digest back, and a later undo does not undo again', async () => {
    const w = world(`localhost:5001/stackport-web@${OLD}`);
    w.cmd.on({ match: /rollout status deployment\/web/, exitCode: 1, stderr: 'error: timed out waiting for the condition' });
    await expect(w.target.rebuild(WEB, () => undefined)).rejects.toThrow(/did not get ready; rolled back/);
    expect(w.cmd.ran(/rollout undo deployment\/web -n default$/)).toBe(1);
    await w.target.undo(WEB);
    expect(w.cmd.ran(/rollout undo/)).toBe(1);
  });
});

describe('--registry on a workload named by tag', () => {
  test('pushes and switches the container to the digest', async () => {
    const w = world('stackport-web:1', { registry: 'localhost:5001' });
    await w.target.rebuild(WEB, () => undefined);
    expect(w.cmd.ran(/^docker push localhost:5001\/stackport-web:1$/)).toBe(1);
    expect(patched(w.cmd).spec.containers[0]!.image).toBe(`localhost:5001/stackport-web@${NEW}`);
    expect(w.loaded).toEqual([]);
  });
});

describe('no registry: into the nodes, as before', () => {
  test('loadImages, then the pod template stamped with the new image ID (the tag stays); nothing pushed', async () => {
    const w = world('stackport-web:1');
    const rolled = await w.target.rebuild(WEB, () => undefined);
    expect(w.loaded).toEqual([['stackport-web:1']]);
    expect(w.cmd.ran(/^docker (tag|push)/)).toBe(0);
    const t = patched(w.cmd);
    expect(t.spec.containers).toEqual([{ name: 'web', image: 'stackport-web:1' }]);
    expect(t.metadata!.annotations![IMAGE_IDS_ANNOTATION]).toBe(imageIdsDigest([['stackport-web:1', 'id-2']]));
    expect(rolled.did).toBe('delivered stackport-web:1, deployment/web rolled');
  });

  test('an unchanged image that is already stamped: nothing to roll', async () => {
    const w = world('stackport-web:1', { before: 'id-2', after: 'id-2', annotations: { [IMAGE_IDS_ANNOTATION]: imageIdsDigest([['stackport-web:1', 'id-2']]) } });
    const rolled = await w.target.rebuild(WEB, () => undefined);
    expect(rolled.did).toBe('image unchanged (layer cache), nothing to roll');
    expect(w.cmd.ran(/ patch /)).toBe(0);
  });

  test('undo after a roll: rollout undo and wait, once', async () => {
    const w = world('stackport-web:1');
    await w.target.rebuild(WEB, () => undefined);
    await w.target.undo(WEB);
    await w.target.undo(WEB);
    expect(w.cmd.ran(/rollout undo deployment\/web/)).toBe(1);
    expect(w.cmd.ran(/rollout status deployment\/web -n default/)).toBe(1);
  });
});

describe('which registry a rebuild goes through', () => {
  test('the session one wins; else the one the digest was pushed to; a tag: none', () => {
    const mine = { host: 'registry.example.com', prefix: 'me' };
    expect(deliveryRegistry('stackport-web:1', `localhost:5001/stackport-web@${OLD}`, mine)).toBe(mine);
    expect(deliveryRegistry('stackport-web:1', `localhost:5001/stackport-web@${OLD}`)).toEqual({ host: 'localhost:5001', prefix: '' });
    expect(deliveryRegistry('stackport-web:1', 'stackport-web:1')).toBeUndefined();
    expect(deliveryRegistry('stackport-web:1', 'localhost:5001/stackport-web:1')).toBeUndefined();
  });

  test('pinnedRegistry reverses registryRepository, and only for this image', () => {
    expect(pinnedRegistry(`localhost:5001/team/a/stackport-web@${OLD}`, 'stackport-web:2')).toEqual({ host: 'localhost:5001', prefix: 'team/a' });
    expect(pinnedRegistry(`localhost:5001/stackport-api@${OLD}`, 'stackport-web:1')).toBeUndefined();
    expect(pinnedRegistry(`stackport-web@${OLD}`, 'stackport-web:1')).toBeUndefined();
    expect(pinnedRegistry('localhost:5001/stackport-web:1', 'stackport-web:1')).toBeUndefined();
  });
});

describe('dev arguments for the cluster', () => {
  test('--registry, --provider kubeconfig with --kubeconfig/--context/--namespace as migrate takes them', () => {
    const a = parseDevArgs(['--target', 'cluster', '--registry', 'localhost:5001', '--kubeconfig', '/k', '--context', 'c', '--namespace', 'team-a']);
    expect(a.registry).toBe('localhost:5001');
    expect(a.remote).toMatchObject({ kubeconfig: '/k', context: 'c', namespace: 'team-a' });
    expect(parseDevArgs(['--target', 'cluster', '--provider', 'kubeconfig']).remote).toEqual({});
  });

  test('--namespace alone stays the local cluster namespace', () => {
    const a = parseDevArgs(['--target', 'cluster', '--namespace', 'stackport-dev']);
    expect(a.remote).toBeUndefined();
    expect(a.namespace).toBe('stackport-dev');
  });

  test('mistakes are refused before anything runs', () => {
    expect(() => parseDevArgs(['--target', 'cluster', '--registry', 'http://bad host'])).toThrow(/--registry/);
    expect(() => parseDevArgs(['--target', 'cluster', '--provider', 'kind', '--kubeconfig', '/k'])).toThrow(/for --provider kubeconfig, not kind/);
    expect(() => parseDevArgs(['--registry', 'localhost:5001'])).toThrow(/for --target cluster/);
    expect(() => parseDevArgs(['--target', 'cluster', '--provider', 'nomad'])).toThrow(/kubeadm, kind or kubeconfig/);
  });
});
