import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkYamlSyntax } from '../../src/stack/compose-file.js';
import { StackportError } from '../../src/errors.js';

function located(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'stackport-cf-')), 'compose.yaml');
  writeFileSync(file, text);
  try {
    checkYamlSyntax(file, 'compose.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(StackportError);
    expect((e as StackportError).exitCode).toBe(2);
    return (e as StackportError).located;
  }
  return 'ok';
}

describe('Compose file pre-checks', () => {
  test('a good file passes', () => expect(located('services:\n  web:\n    image: nginx\n')).toBe('ok'));
  test('YAML syntax error names line and column', () =>
    expect(located('services:\n  web:\n    image: nginx\n   ports: [1\n')).toMatch(/^compose\.yaml:4:\d+: YAML syntax error: /));
  test('an empty file', () => expect(located('\n')).toBe('compose.yaml:1:1: the Compose file is empty'));
  test('no services', () => expect(located('volumes: {}\n')).toBe('compose.yaml:1:1: no `services:` mapping'));
  test('duplicate keys', () => expect(located('services:\n  a: {image: x}\n  a: {image: y}\n')).toMatch(/^compose\.yaml:3:3: YAML syntax error: Map keys must be unique/));
});
