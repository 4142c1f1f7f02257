/**
 * The committed manifests/ are generated from compose/compose.yaml: this fails when either
 * changed without the other (run `make generate`, i.e. the command below without --check).
 */
import path from 'node:path';
import { StackportError } from '../../src/errors.js';
import { generateCommand } from '../../src/k8s/generate-command.js';

const ROOT = path.resolve(__dirname, '../..');
/** The same arguments as `make generate` / `make generate-check`. */
export const DEMO_ARGS = ['-f', 'compose/compose.yaml', '-o', 'manifests', '--project-name', 'stackport'];

test('manifests/ is fresh for compose/compose.yaml', async () => {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: () => undefined, validator: async () => () => undefined, cwd: ROOT };
  try {
    expect(await generateCommand([...DEMO_ARGS, '--check'], io)).toBe(0);
  } catch (e) {
    const err = e as StackportError;
    throw new Error(`${err.message}\n${err.details ?? ''}\n${err.hint ?? ''}`);
  }
  expect(lines.join('\n')).toContain('manifests/ is up to date');
});
