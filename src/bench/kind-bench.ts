import { probe } from '../exec/run.js';
import { formatMs, SilentProgress } from '../ui/progress.js';
import { median } from './stats.js';
import { KubeadmProvider } from '../cluster/providers/kubeadm.js';
import { KindProvider } from '../cluster/providers/kind.js';

/**
 * `make bench-cluster` rows for kind: build (cached: a warm machine rebuilds nothing, so the
 * cold figure is the first build's breakdown), then per size (1 node, 3 nodes) N times: create
 * from the local node image to every node Ready with system pods rolled out, image load
 * (`kind load docker-image` of the web image, else busybox) onto every node, delete.
 * The kubeadm cluster is stopped first: both publish 127.0.0.1:8090.
 */
export interface KindBenchOptions {
  root: string;
  runs: number;
  out?: NodeJS.WritableStream;
  sizes?: number[];
}

export async function benchKind(o: KindBenchOptions): Promise<void> {
  const out = o.out ?? process.stdout;
  const say = (l: string) => out.write(`${l}\n`);
  await new KubeadmProvider({ root: o.root }).delete({ progress: new SilentProgress() });
  const build = new SilentProgress();
  let t = Date.now();
  await new KindProvider({ root: o.root }).build(build);
  say(`kind build (kind CLI + node image; cached when nothing is listed): ${formatMs(Date.now() - t)}`);
  for (const s of build.timings) say(`  ${s.name} ${formatMs(s.ms)}`);
  const image = (await probe(['docker', 'image', 'inspect', 'stackport-web:1'])).exitCode === 0 ? 'stackport-web:1' : undefined;
  for (const nodes of o.sizes ?? [1, 3]) {
    const provider = new KindProvider({ root: o.root }, { nodes });
    await provider.delete({ progress: new SilentProgress() });
    const creates: number[] = [];
    const loads: number[] = [];
    const deletes: number[] = [];
    for (let i = 1; i <= o.runs; i++) {
      const p = new SilentProgress();
      t = Date.now();
      await provider.create({ progress: p });
      creates.push(Date.now() - t);
      let load = '';
      if (image) {
        t = Date.now();
        await provider.loadImages([image], { progress: new SilentProgress() });
        loads.push(Date.now() - t);
        load = `; load ${image} ${formatMs(loads[loads.length - 1]!)}`;
      }
      t = Date.now();
      await provider.delete({ progress: new SilentProgress() });
      deletes.push(Date.now() - t);
      say(`kind ${nodes} node(s) run ${i}: create to Ready ${formatMs(creates[i - 1]!)} (${p.timings.map((s) => `${s.name} ${formatMs(s.ms)}`).join(', ')})${load}; delete ${formatMs(deletes[i - 1]!)}`);
    }
    say(`kind ${nodes} node(s) median of ${o.runs}: create ${formatMs(median(creates))}${loads.length ? `, image load ${formatMs(median(loads))}` : ''}, delete ${formatMs(median(deletes))}`);
  }
}
