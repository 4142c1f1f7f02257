import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureEnvFile, parseEnvFile } from '../../src/stack/env-file.js';
import { DEBIAN, OFFICIAL } from '../../src/engine/images.js';
import { StackportError } from '../../src/errors.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'stackport-env-'));

describe('compose/.env', () => {
  test('is created with mode 0600, random secrets and the chosen images', () => {
    const file = path.join(tmp(), '.env');
    const { created, values } = ensureEnvFile(file, DEBIAN, 'debian');
    expect(created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(values.get('POSTGRES_PASSWORD')).toMatch(/^[0-9a-f]{36}$/);
    expect(values.get('RABBITMQ_DEFAULT_PASS')).toMatch(/^[0-9a-f]{36}$/);
    expect(values.get('POSTGRES_PASSWORD')).not.toBe(values.get('RABBITMQ_DEFAULT_PASS'));
    expect(values.get('POSTGRES_IMAGE')).toBe('stackport/postgres:15-bookworm');
    expect(values.get('COMPOSE_PROJECT_NAME')).toBe('stackport');
  });

  test('keeps secrets and user keys, switches images', () => {
    const file = path.join(tmp(), '.env');
    const first = ensureEnvFile(file, DEBIAN, 'debian').values;
    writeFileSync(file, `${readFileSync(file, 'utf8')}WEB_PORT=9000\n`);
    const second = ensureEnvFile(file, OFFICIAL, 'official');
    expect(second.created).toBe(false);
    expect(second.values.get('POSTGRES_PASSWORD')).toBe(first.get('POSTGRES_PASSWORD'));
    expect(second.values.get('WEB_PORT')).toBe('9000');
    expect(second.values.get('POSTGRES_IMAGE')).toBe('postgres:15');
    expect(second.values.get('STACKPORT_IMAGE_SOURCE')).toBe('official');
  });

  test('a malformed line is reported with file and line', () => {
    expect(() => parseEnvFile('A=1\nthis is not an assignment\n', 'compose/.env')).toThrow(StackportError);
    try {
      parseEnvFile('A=1\nthis is not an assignment\n', 'compose/.env');
    } catch (e) {
      expect((e as StackportError).located).toBe('compose/.env:2:1: not a KEY=VALUE line: "this is not an assignment"');
    }
  });

  test('quotes and export prefixes are understood', () => {
    const v = parseEnvFile(`export A='x y'\nB="z"\n# comment\n\nC=\n`);
    expect([...v.entries()]).toEqual([
      ['A', 'x y'],
      ['B', 'z'],
      ['C', ''],
    ]);
  });
});
