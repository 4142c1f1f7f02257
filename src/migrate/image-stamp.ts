/**
 * A tag is not a version: `make up` rebuilds stackport-api:1 in place when its sources change,
 * and a Deployment that still says `image: stackport-api:1` would keep its old pods. The apply
 * step stamps every pod template with the engine's image IDs of its containers, so a rebuilt
 * image under the same tag changes the template, and Kubernetes rolls the pods (rolling update,
 * as for any other change); an unchanged image changes nothing.
 */
import { createHash } from 'node:crypto';
import { isMap, parseAllDocuments } from 'yaml';

export const IMAGE_IDS_ANNOTATION = 'stackport.dev/image-ids';

/** The annotation's value for a set of (image, engine ID) pairs: short, order-free. */
export function imageIdsDigest(pairs: [image: string, id: string][]): string {
  const text = [...pairs].sort(([a], [b]) => a.localeCompare(b)).map(([i, id]) => `${i}@${id}`).join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Returns the stream with each workload's pod template annotated; images without a known ID
 * (not from the engine) do not count. Documents without a pod template are left as they are.
 */
export function stampImageIds(rendered: string, ids: Record<string, string>): string {
  const docs = parseAllDocuments(rendered);
  for (const doc of docs) {
    const template = doc.getIn(['spec', 'template']);
    if (!isMap(template)) continue;
    const images: string[] = [];
    for (const list of ['containers', 'initContainers']) {
      const items = doc.getIn(['spec', 'template', 'spec', list]) as { items?: unknown[] } | undefined;
      for (const c of items?.items ?? []) {
        const image = isMap(c) ? c.get('image') : undefined;
        if (typeof image === 'string' && ids[image]) images.push(image);
      }
    }
    if (images.length === 0) continue;
    const digest = imageIdsDigest([...new Set(images)].map((i) => [i, ids[i]!]));
    if (!doc.hasIn(['spec', 'template', 'metadata'])) doc.setIn(['spec', 'template', 'metadata'], doc.createNode({}));
    if (!doc.hasIn(['spec', 'template', 'metadata', 'annotations'])) doc.setIn(['spec', 'template', 'metadata', 'annotations'], doc.createNode({}));
    doc.setIn(['spec', 'template', 'metadata', 'annotations', IMAGE_IDS_ANNOTATION], digest);
  }
  return docs.map((d) => d.toString({ lineWidth: 0 })).join('');
}

/**
 * With a registry the manifests name each image by digest (`registry/repo@sha256:…`), which does
 * what the stamp does and more: a rebuilt tag is a new digest (its pods roll), an unchanged one
 * the same reference (nothing changes), and every node pulls exactly that image. Images without
 * a pushed reference are left as they are.
 */
export function pinImages(rendered: string, refs: Record<string, string>): string {
  const docs = parseAllDocuments(rendered);
  for (const doc of docs) {
    for (const list of ['containers', 'initContainers']) {
      const items = doc.getIn(['spec', 'template', 'spec', list]) as { items?: unknown[] } | undefined;
      for (const c of items?.items ?? []) {
        if (!isMap(c)) continue;
        const image = c.get('image');
        if (typeof image === 'string' && refs[image]) c.set('image', refs[image]);
      }
    }
  }
  return docs.map((d) => d.toString({ lineWidth: 0 })).join('');
}

/** `--storage-class`: every PersistentVolumeClaim and StatefulSet volume claim template asks for it. */
export function setStorageClass(rendered: string, storageClass: string): string {
  const docs = parseAllDocuments(rendered);
  for (const doc of docs) {
    const kind = doc.get('kind');
    if (kind === 'PersistentVolumeClaim') doc.setIn(['spec', 'storageClassName'], storageClass);
    if (kind === 'StatefulSet') {
      const templates = doc.getIn(['spec', 'volumeClaimTemplates']) as { items?: unknown[] } | undefined;
      for (const t of templates?.items ?? []) if (isMap(t)) (t as import('yaml').YAMLMap).setIn(['spec', 'storageClassName'], storageClass);
    }
  }
  return docs.map((d) => d.toString({ lineWidth: 0 })).join('');
}
