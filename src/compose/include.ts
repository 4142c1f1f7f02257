/**
 * `include:`: another Compose project (its own directory, its own env file) whose services,
 * volumes, networks, secrets and configs join this one. Short form `- path.yaml`; long form
 * `- path: a.yaml | [a.yaml, b.yaml]`, `project_directory`, `env_file: f | [f...]`.
 * Pure: the loader reads the files; this reads the entries and fixes relative paths.
 */
import path from 'node:path';
import type { SourcePos } from '../model/app.js';
import { describe, isPMap, isPScalar, isPSeq, type PMap, type PNode, type Problem } from './source.js';

export interface IncludeEntry {
  /** Absolute paths of the files (the first one is the project's main file, the rest override it). */
  files: string[];
  projectDir: string;
  envFiles: string[];
  /** As written, for messages. */
  text: string;
  pos: SourcePos;
}

export function includeEntries(root: PMap, workingDir: string, problems: Problem[]): IncludeEntry[] {
  const n = root.entries.get('include')?.value;
  if (!n) return [];
  if (!isPSeq(n)) {
    problems.push({ message: `include must be a list, not ${describe(n)}`, pos: n.pos });
    return [];
  }
  const out: IncludeEntry[] = [];
  n.items.forEach((item, k) => {
    const where = `include[${k}]`;
    if (isPScalar(item) && typeof item.value === 'string') {
      const file = path.resolve(workingDir, item.value);
      out.push({ files: [file], projectDir: path.dirname(file), envFiles: [], text: item.value, pos: item.pos });
      return;
    }
    if (!isPMap(item)) {
      problems.push({ message: `${where} must be a path or a mapping with path, not ${describe(item)}`, pos: item.pos });
      return;
    }
    for (const [key, e] of item.entries) {
      if (!['path', 'project_directory', 'env_file'].includes(key) && !key.startsWith('x-')) problems.push({ message: `${where}: unknown key "${key}"`, pos: e.keyPos });
    }
    const paths = strings(item.entries.get('path')?.value, `${where}.path`, problems);
    if (!paths.length) {
      problems.push({ message: `${where}: path is required`, pos: item.pos });
      return;
    }
    const files = paths.map((p) => path.resolve(workingDir, p));
    const pd = strings(item.entries.get('project_directory')?.value, `${where}.project_directory`, problems)[0];
    const projectDir = pd === undefined ? path.dirname(files[0]!) : path.resolve(workingDir, pd);
    const envFiles = strings(item.entries.get('env_file')?.value, `${where}.env_file`, problems).map((f) => path.resolve(workingDir, f));
    out.push({ files, projectDir, envFiles, text: paths.join(', '), pos: item.pos });
  });
  return out;
}

function strings(n: PNode | undefined, where: string, problems: Problem[]): string[] {
  if (!n) return [];
  if (isPScalar(n) && typeof n.value === 'string') return [n.value];
  if (isPSeq(n) && n.items.every((i) => isPScalar(i) && typeof i.value === 'string')) return n.items.map((i) => String((i as { value: string }).value));
  problems.push({ message: `${where} must be a string or a list of strings, not ${describe(n)}`, pos: n.pos });
  return [];
}

/** Makes the relative paths of an included project absolute (they are relative to its own project directory). */
export function rebaseResources(root: PMap, dir: string): void {
  const fix = (n: PNode | undefined) => {
    if (n && isPScalar(n) && typeof n.value === 'string' && !path.isAbsolute(n.value) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(n.value)) {
      n.value = n.value.startsWith('~') ? n.value : path.resolve(dir, n.value);
      n.raw = n.value;
    }
  };
  const services = root.entries.get('services')?.value;
  if (services && isPMap(services)) {
    for (const e of services.entries.values()) {
      const svc = e.value;
      if (!isPMap(svc)) continue;
      const build = svc.entries.get('build')?.value;
      if (build && isPScalar(build)) fix(build);
      else if (build && isPMap(build)) fix(build.entries.get('context')?.value ?? undefined);
      if (build && isPMap(build) && !build.entries.has('context')) {
        build.entries.set('context', { keyPos: build.pos, value: { kind: 'scalar', value: dir, raw: dir, pos: build.pos } });
      }
      const envFile = svc.entries.get('env_file')?.value;
      if (envFile && isPSeq(envFile)) envFile.items.forEach((i) => (isPMap(i) ? fix(i.entries.get('path')?.value) : fix(i)));
      else if (envFile && isPMap(envFile)) fix(envFile.entries.get('path')?.value);
      else fix(envFile);
      const volumes = svc.entries.get('volumes')?.value;
      if (volumes && isPSeq(volumes)) {
        for (const v of volumes.items) {
          if (isPScalar(v) && typeof v.value === 'string' && /^\.{1,2}(\/|:|$)/.test(v.value)) {
            const [src, ...rest] = v.value.split(':');
            v.value = [path.resolve(dir, src!), ...rest].join(':');
            v.raw = v.value;
          } else if (isPMap(v)) {
            const t = v.entries.get('type')?.value;
            if (t && isPScalar(t) && t.value === 'bind') fix(v.entries.get('source')?.value);
          }
        }
      }
    }
  }
  for (const kind of ['secrets', 'configs']) {
    const m = root.entries.get(kind)?.value;
    if (!m || !isPMap(m)) continue;
    for (const e of m.entries.values()) if (isPMap(e.value)) fix(e.value.entries.get('file')?.value);
  }
}
