/**
 * Watches each service's build context, honouring its .dockerignore, and hands over one batch
 * per burst of saves: a change starts a quiet-period timer that every further change restarts,
 * so an editor's write-rename-chmod or a `git checkout` of ten files is one update.
 *
 * chokidar 4 (Node >= 14, CommonJS and ESM) rather than `fs.watch({ recursive: true })`: on Linux
 * Node's recursive watch walks the tree itself and missed renames and new directories in
 * several 20.x releases; chokidar handles editors' atomic saves (write to a temp file, rename)
 * as one change and new directories without a restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { watch, type FSWatcher } from 'chokidar';

export interface ContextWatch {
  service: string;
  /** Absolute path of the build context. */
  context: string;
}

export interface Change {
  service: string;
  /** Paths relative to the context, posix separators, sorted. */
  files: string[];
  /** Of those, the ones removed. */
  removed: string[];
  /** When the first change of the burst was seen (ms since epoch). */
  firstAt: number;
}

/** Docker's .dockerignore semantics (the same matcher Docker's own Node tooling uses). */
export function contextFilter(context: string): (rel: string) => boolean {
  const file = path.join(context, '.dockerignore');
  // CommonJS with factory.default = factory: callable as .default under ESM and ts-jest alike
  const ig = dockerignore.default();
  if (existsSync(file)) ig.add(readFileSync(file, 'utf8'));
  ig.add(['.git']);
  return (rel: string) => rel === '' || !ig.ignores(rel);
}

export interface Watching {
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * onFirst: called with the service at the first change of a burst, before its quiet period
 * (make dev looks the running instances up meanwhile).
 */
export function watchContexts(contexts: ContextWatch[], onChange: (c: Change) => void, options: { quietMs?: number; onFirst?: (service: string) => void } = {}): Watching {
  const quietMs = options.quietMs ?? 150;
  const watchers: FSWatcher[] = [];
  const readies: Promise<void>[] = [];
  for (const { service, context } of contexts) {
    const keep = contextFilter(context);
    let pending: { files: Set<string>; removed: Set<string>; firstAt: number } | undefined;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      const p = pending!;
      pending = undefined;
      onChange({ service, files: [...p.files].sort(), removed: [...p.removed].filter((f) => p.files.has(f)).sort(), firstAt: p.firstAt });
    };
    const seen = (kind: 'change' | 'remove', abs: string) => {
      const rel = path.relative(context, abs).split(path.sep).join('/');
      if (!keep(rel)) return;
      if (!pending) {
        pending = { files: new Set(), removed: new Set(), firstAt: Date.now() };
        options.onFirst?.(service);
      }
      pending.files.add(rel);
      if (kind === 'remove') pending.removed.add(rel);
      else pending.removed.delete(rel);
      clearTimeout(timer);
      timer = setTimeout(flush, quietMs);
    };
    const w = watch(context, {
      ignoreInitial: true,
      ignored: (abs: string) => {
        const rel = path.relative(context, abs).split(path.sep).join('/');
        return rel !== '' && !rel.startsWith('..') && !keep(rel);
      },
    });
    w.on('add', (p) => seen('change', p)).on('change', (p) => seen('change', p)).on('unlink', (p) => seen('remove', p));
    readies.push(new Promise((resolve) => w.once('ready', () => resolve())));
    watchers.push(w);
  }
  return {
    ready: Promise.all(readies).then(() => undefined),
    close: async () => {
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
