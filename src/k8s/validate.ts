/**
 * Schema validation with kubernetes-models: every object is checked against the Kubernetes
 * OpenAPI schema before anything is written. kubernetes-models is ESM only, so it is loaded
 * lazily (tests validate in a child process, see tests/golden), in one chunk (./schemas.ts) so the
 * library bundle (scripts/lib/build.mjs) carries the schemas instead of ~100 files from node_modules.
 */
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './transform.js';

export type ObjectValidator = (o: K8sObject) => string | undefined;

/** Loads the schema classes for every kind the generator makes (one lazy chunk: ./schemas.ts). */
export async function schemaValidator(): Promise<ObjectValidator> {
  const { MODELS } = await import('./schemas.js');
  return (o) => {
    const Model = MODELS.get(`${o.apiVersion}/${o.kind}`);
    if (!Model) return `${o.kind} ${o.metadata?.name ?? ''}: no schema for ${o.apiVersion}/${o.kind}`;
    try {
      new Model(o).validate();
      return undefined;
    } catch (e) {
      return `${o.kind} ${o.metadata?.name ?? ''}: ${e instanceof Error ? e.message.split('\n').join('; ') : String(e)}`;
    }
  };
}

/** Validates every object of the generated base files (text), returning one line per problem. */
export function validateTexts(texts: Map<string, string>, validate: ObjectValidator): string[] {
  const problems: string[] = [];
  for (const [file, text] of texts) {
    if (!file.startsWith('base/') || file === 'base/kustomization.yaml' || !file.endsWith('.yaml')) continue;
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS({ maxAliasCount: -1 }) as K8sObject | null;
      if (!o) continue;
      const p = validate(o);
      if (p) problems.push(`${file}: ${p}`);
    }
  }
  return problems;
}
