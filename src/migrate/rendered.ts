/**
 * Reading a rendered manifest stream (what `kubectl kustomize` printed): its workloads and the
 * containers of their pod templates. The migration steps that look at what will be applied
 * (which images, which data services) read it here rather than from their own regexes.
 */
import { parseAllDocuments } from 'yaml';

export interface RenderedContainer {
  name: string;
  image: string;
}

export interface RenderedWorkload {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';
  name: string;
  /** The pod template's labels (a selector for the workload's pods). */
  podLabels: Record<string, string>;
  containers: RenderedContainer[];
  initContainers: RenderedContainer[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: RenderedContainer[]; initContainers?: RenderedContainer[] };
}
interface Obj {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: PodTemplate };
}

export function workloadsIn(rendered: string): RenderedWorkload[] {
  const out: RenderedWorkload[] = [];
  for (const doc of parseAllDocuments(rendered)) {
    const o = doc.toJS() as Obj | null;
    if (!o?.kind || !WORKLOAD_KINDS.has(o.kind) || !o.metadata?.name) continue;
    const t = o.spec?.template;
    out.push({
      kind: o.kind as RenderedWorkload['kind'],
      name: o.metadata.name,
      podLabels: t?.metadata?.labels ?? {},
      containers: (t?.spec?.containers ?? []).map(({ name, image }) => ({ name, image })),
      initContainers: (t?.spec?.initContainers ?? []).map(({ name, image }) => ({ name, image })),
    });
  }
  return out;
}
