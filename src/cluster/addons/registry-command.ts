/**
 * `scripts/cluster.mjs registry up|down|status`: the local registry on 127.0.0.1:5001, wired into
 * whichever local cluster runs (kubeadm on this host, kind in containers).
 */
import { existsSync } from 'node:fs';
import { ConsoleProgress } from '../../ui/progress.js';
import { cacheRoot } from '../../engine/cache.js';
import { CacheLayout, HOST } from '../build/cache.js';
import { Kubectl } from '../kubectl.js';
import { LOCAL_REGISTRY, registryDown, registryStatus, registryUp, wireKind, wireKubeadm, type RegistryStatus } from './registry.js';
import { KUBERNETES_VERSION } from '../build/versions.js';

export interface RegistryCommandContext {
  root: string;
  out: NodeJS.WritableStream;
  json?: boolean;
  purge?: boolean;
}

/** Local clusters that exist: each gets the registry's hosts.toml and the KEP-1755 ConfigMap. */
async function wireLocalClusters(ctx: RegistryCommandContext, progress: ConsoleProgress): Promise<string[]> {
  const wired: string[] = [];
  const kubectlBin = new CacheLayout(KUBERNETES_VERSION).binary('kubectl');
  if (!existsSync(kubectlBin)) return wired;
  if (existsSync(HOST.state) && existsSync('/etc/kubernetes/admin.conf')) {
    const k = new Kubectl(kubectlBin, '/etc/kubernetes/admin.conf');
    if (await k.run(['get', '--raw', '/readyz'], { timeoutMs: 10_000 }).then(() => true, () => false)) {
      const w = await progress.step('wire the kubeadm cluster to the registry', () => wireKubeadm(k));
      wired.push(`kubeadm (${w.files.join(', ')})`);
    }
  }
  const { KindProvider } = await import('../providers/kind.js');
  const kind = new KindProvider({ root: ctx.root });
  const nodes = await kind.containers(false);
  if (nodes.length) {
    const k = new Kubectl(kubectlBin, await kind.kubeconfig());
    const w = await progress.step(`wire the kind cluster (${nodes.length} node(s)) to the registry`, () => wireKind(nodes, k));
    wired.push(`kind (${w.files.length} node(s))`);
  }
  return wired;
}

function describe(s: RegistryStatus): string {
  const lines = [`registry: ${s.state}`, `url: ${s.url} (images are named ${LOCAL_REGISTRY}/...)`];
  if (s.image) lines.push(`image: ${s.image}`);
  if (s.volume) lines.push(`volume: ${s.volume}`);
  if (s.repositories) lines.push(`repositories: ${s.repositories.length ? s.repositories.join(', ') : 'none yet'}`);
  for (const p of s.problems) lines.push(`problem: ${p}`);
  return lines.join('\n');
}

export async function registryCommand(sub: string, ctx: RegistryCommandContext): Promise<void> {
  const progress = new ConsoleProgress();
  if (sub === 'up') {
    const s = await registryUp(ctx.root, cacheRoot(), progress);
    const wired = await wireLocalClusters(ctx, progress);
    ctx.out.write(`${describe(s)}\nwired: ${wired.length ? wired.join('; ') : 'no local cluster runs (migrate wires it later)'}\n`);
    ctx.out.write(`use it: npx zx scripts/migrate.mjs --registry ${LOCAL_REGISTRY}\n`);
  } else if (sub === 'down') {
    await registryDown(progress, ctx.purge);
    ctx.out.write(`registry removed${ctx.purge ? ' with its volume' : ' (its volume is kept; --purge removes it)'}\n`);
  } else {
    const s = await registryStatus();
    ctx.out.write(ctx.json ? `${JSON.stringify(s, null, 2)}\n` : `${describe(s)}\n`);
    if (s.state !== 'running' || s.problems.length) process.exitCode = 1;
  }
}
