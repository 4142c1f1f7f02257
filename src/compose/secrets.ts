/**
 * Top-level `secrets` and `configs` (file, environment, content, external) and a service's references to them.
 */
import path from 'node:path';
import type { FileObject, ServiceSecretRef } from '../model/app.js';
import { isPMap, isPScalar, type PNode } from './source.js';
import { environment } from './environment.js';
import { checkKeys, listItems, mapOf, type NormalizeContext, problem, scalarBool, scalarString, warn } from './readers.js';

export function fileObjects(kind: 'secrets' | 'configs', n: PNode | undefined, ctx: NormalizeContext): FileObject[] {
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
        if (!ctx.files.exists(obj.file)) {
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

export function secretRefs(kind: 'secrets' | 'configs', n: PNode | undefined, where: string, ctx: NormalizeContext, defs: FileObject[]): ServiceSecretRef[] {
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
