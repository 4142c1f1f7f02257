import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseProject, normalizeProjectName } from '../../src/stack/project.js';
import { dockerfileBases, withTag } from '../../src/stack/provide-images.js';
import { standInFor } from '../../src/engine/images.js';
import { entryOf, freeNodePort } from '../../src/cluster/host/entry.js';

describe('which project, the Compose way', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'proj-root-'));
  mkdirSync(path.join(root, 'compose'));
  writeFileSync(path.join(root, 'compose', 'compose.yaml'), 'services: {}\n');
  const own = path.join(root, 'My_App');
  mkdirSync(own);
  writeFileSync(path.join(own, 'compose.yaml'), 'services: {}\n');
  writeFileSync(path.join(own, 'named.yaml'), 'name: shop\nservices: {}\n');

  test('default: the demo, project stackport', () => {
    expect(chooseProject({ root, env: {} })).toMatchObject({ demo: true, name: 'stackport', files: [path.join(root, 'compose', 'compose.yaml')] });
  });
  test('-f: the directory name, normalised; several files keep their order', () => {
    const c = chooseProject({ root, env: {}, files: ['My_App/compose.yaml', 'My_App/named.yaml'] });
    expect(c).toMatchObject({ demo: false, name: 'shop', files: [path.join(own, 'compose.yaml'), path.join(own, 'named.yaml')] });
    expect(chooseProject({ root, env: {}, files: ['My_App/compose.yaml'] })).toMatchObject({ name: 'my_app', nameFrom: 'the project directory' });
  });
  test('COMPOSE_FILE (split on :) and COMPOSE_PROJECT_NAME beat the name in the file', () => {
    const c = chooseProject({ root, cwd: own, env: { COMPOSE_FILE: 'compose.yaml:named.yaml', COMPOSE_PROJECT_NAME: 'Other' } });
    expect(c).toMatchObject({ files: [path.join(own, 'compose.yaml'), path.join(own, 'named.yaml')], name: 'other', nameFrom: 'COMPOSE_PROJECT_NAME' });
  });
  test("the project directory's .env names it too", () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'proj-env-'));
    writeFileSync(path.join(d, 'compose.yaml'), 'name: ignored\nservices: {}\n');
    writeFileSync(path.join(d, '.env'), 'COMPOSE_PROJECT_NAME=from-dotenv\n');
    expect(chooseProject({ root, env: {}, files: [path.join(d, 'compose.yaml')] }).name).toBe('from-dotenv');
  });
  test('normalised like Compose', () => expect(normalizeProjectName('-My.App 2')).toBe('myapp2'));
});

describe('images a file names', () => {
  test('stand-ins for the official images only', () => {
    expect(standInFor('mariadb:11')?.dir).toBe('mariadb');
    expect(standInFor('mysql:8.4')?.dir).toBe('mariadb');
    expect(standInFor('docker.io/library/redis:7')?.dir).toBe('redis');
    expect(standInFor('python:3.12-slim')?.dir).toBe('python');
    expect(standInFor('bitnami/redis:7')).toBeUndefined();
    expect(standInFor('ghcr.io/someone/nginx:1')).toBeUndefined();
    expect(standInFor('traefik:3')).toBeUndefined();
  });
  test('Dockerfile bases: ARG defaults, build args, stages and scratch', () => {
    const text = 'ARG BASE=node:20\nARG TAG\nFROM ${BASE} AS build\nRUN make\nFROM --platform=linux/amd64 python:${TAG:-3.12} as run\nFROM build\nFROM scratch\n';
    expect(dockerfileBases(text)).toEqual(['node:20', 'python:3.12']);
    expect(dockerfileBases(text, { BASE: 'node:18', TAG: '3.11' })).toEqual(['node:18', 'python:3.11']);
  });
  test('an image without a tag is :latest', () => {
    expect(withTag('redis')).toBe('redis:latest');
    expect(withTag('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(withTag('a@sha256:00')).toBe('a@sha256:00');
  });
});

describe('a project entry on the cluster', () => {
  test('the first free NodePort block from 30500', () => {
    expect(freeNodePort(new Set([30080]))).toBe(30500);
    expect(freeNodePort(new Set([30500, 30505]))).toBe(30508);
    expect(() => freeNodePort(new Set(Array.from({ length: 100 }, (_, i) => 30500 + i)))).toThrow(/no free NodePort/);
  });
  test('the entry Service of a rendered stream', () => {
    const r = 'kind: Service\nmetadata: { name: db }\nspec: { ports: [{ port: 5432 }] }\n---\nkind: Service\nmetadata: { name: app }\nspec: { type: NodePort, ports: [{ port: 8000, nodePort: 30500 }] }\n';
    expect(entryOf(r)).toEqual({ name: 'app', port: 8000, nodePort: 30500 });
  });
});
