import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StackportError } from '../../src/errors.js';
import { provideImages, type ImageEdges, type ProvideOptions } from '../../src/stack/provide-images.js';
import type { ResolvedConfig, ResolvedService } from '../../src/stack/resolved-config.js';
import { SilentProgress, type Progress } from '../../src/ui/progress.js';

/** A Docker engine and a network, faked: what is local, whether a registry answers, what was built and tagged. */
class FakeImageEngine implements ImageEdges {
  readonly built: string[] = [];
  readonly tagged: string[] = [];
  registryAsked = 0;
  constructor(
    readonly local = new Set<string>(),
    readonly registry = false,
    readonly labels = new Map<string, string>(),
  ) {}
  async localImages(): Promise<Set<string>> {
    return new Set(this.local);
  }
  async recipeLabels(refs: string[]): Promise<Map<string, string>> {
    return new Map(refs.filter((r) => this.local.has(r)).map((r) => [r, this.labels.get(r) ?? '']));
  }
  async registryAnswers(): Promise<boolean> {
    this.registryAsked++;
    return this.registry;
  }
  async ensureRecipes(_root: string, _cache: string, _progress: unknown, recipes: { tag: string; dir: string }[]): Promise<void> {
    for (const r of recipes) {
      this.built.push(r.tag);
      this.local.add(r.tag);
    }
  }
  async tag(from: string, to: string): Promise<void> {
    if (!this.local.has(from)) throw new Error(`tag: ${from} does not exist`);
    this.tagged.push(`${from} -> ${to}`);
    this.local.add(to);
  }
}

/** Keeps the info lines (what the user reads); steps as SilentProgress runs them. */
class RecordingProgress implements Progress {
  readonly lines: string[] = [];
  private readonly silent = new SilentProgress();
  readonly timings = this.silent.timings;
  info(line: string): void {
    this.lines.push(line);
  }
  warn(line: string): void {
    this.lines.push(`warning: ${line}`);
  }
  step<T>(name: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T> {
    return this.silent.step(name, fn);
  }
}

const svc = (name: string, image: string): ResolvedService => ({ name, image, ports: [], hasHealthcheck: false });
const config = (...services: ResolvedService[]): ResolvedConfig => ({ services, volumes: [] });

function options(edges: FakeImageEngine, extra: Partial<Omit<ProvideOptions, 'progress'>> = {}): ProvideOptions & { progress: RecordingProgress } {
  return { root: '/repo', cache: '/cache', progress: new RecordingProgress(), source: 'official', why: 'auto', file: 'shop/compose.yaml', edges, ...extra };
}

describe('provideImages: stand-ins only where no registry answers', () => {
  test('a registry answers: no drop-in is built or tagged, Compose pulls, even an image nothing stands in for', async () => {
    const engine = new FakeImageEngine(new Set(), true);
    const o = options(engine);
    const r = await provideImages(config(svc('web', 'nginx:1.27'), svc('db', 'postgres:15'), svc('api', 'ghcr.io/acme/api:2')), o);
    expect(r.standIns.size).toBe(0);
    expect(engine.built).toEqual([]);
    expect(engine.tagged).toEqual([]);
    expect(o.progress.lines).toEqual(['images: ghcr.io/acme/api:2, nginx:1.27, postgres:15 not here; a registry answers, so Compose pulls them']);
  });

  test('every image already in the engine (the official ones): the registry is not even asked, nothing is tagged', async () => {
    const engine = new FakeImageEngine(new Set(['postgres:15', 'redis:latest']));
    const r = await provideImages(config(svc('db', 'postgres:15'), svc('cache', 'redis')), options(engine));
    expect(r.standIns.size).toBe(0);
    expect(engine.registryAsked).toBe(0);
    expect(engine.tagged).toEqual([]);
  });

  test('no registry: nginx, postgres, redis, mysql and a Dockerfile FROM python get drop-ins under the names the file uses, each said', async () => {
    const context = mkdtempSync(path.join(os.tmpdir(), 'provide-images-'));
    writeFileSync(path.join(context, 'Dockerfile'), 'ARG PY=3.11\nFROM python:${PY}-slim AS base\nFROM base\nCOPY . /app\n');
    const app: ResolvedService = { name: 'app', build: { context, dockerfile: 'Dockerfile', args: {} }, ports: [], hasHealthcheck: false };
    const engine = new FakeImageEngine();
    const o = options(engine);
    const r = await provideImages(config(svc('web', 'nginx:1.27'), svc('db', 'postgres:16'), svc('cache', 'redis'), svc('legacy', 'mysql:8'), app), o);
    expect(Object.fromEntries(r.standIns)).toEqual({
      'mysql:8': 'stackport/mariadb:10.11-bookworm',
      'nginx:1.27': 'stackport/nginx:1.22-bookworm',
      'postgres:16': 'stackport/postgres:15-bookworm',
      'python:3.11-slim': 'stackport/python:3.11-bookworm',
      'redis:latest': 'stackport/redis:7.0-bookworm',
    });
    // the engine now answers to the file's names: Compose finds them and pulls nothing
    for (const ref of ['nginx:1.27', 'postgres:16', 'redis:latest', 'mysql:8', 'python:3.11-slim']) expect(engine.local.has(ref)).toBe(true);
    expect(engine.built.sort()).toEqual(['stackport/mariadb:10.11-bookworm', 'stackport/nginx:1.22-bookworm', 'stackport/postgres:15-bookworm', 'stackport/python:3.11-bookworm', 'stackport/redis:7.0-bookworm']);
    expect(o.progress.lines).toContain('images: nginx:1.27 is the Debian drop-in stackport/nginx:1.22-bookworm (no registry answers; compose/images/nginx)');
    expect(o.progress.lines).toContain('images: redis:latest is the Debian drop-in stackport/redis:7.0-bookworm (no registry answers; compose/images/redis)');
    expect(o.progress.lines).toHaveLength(5);
  });

  test('STACKPORT_IMAGES=debian: the drop-ins even where a registry answers', async () => {
    const engine = new FakeImageEngine(new Set(), true);
    const r = await provideImages(config(svc('db', 'postgres:15')), options(engine, { source: 'debian', why: 'STACKPORT_IMAGES=debian' }));
    expect(engine.registryAsked).toBe(0);
    expect(engine.tagged).toEqual(['stackport/postgres:15-bookworm -> postgres:15']);
    expect(r.standIns.get('postgres:15')).toBe('stackport/postgres:15-bookworm');
  });

  test('no registry and an image nothing stands in for: one StackportError naming it, the file and docker load -i; nothing built or tagged', async () => {
    const engine = new FakeImageEngine();
    const run = provideImages(config(svc('db', 'postgres:15'), svc('api', 'ghcr.io/acme/api:2'), svc('cache', 'bitnami/redis:7')), options(engine));
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StackportError);
    const e = err as StackportError;
    expect(e.message).toBe(
      'shop/compose.yaml names image(s) not in the Docker engine, no registry answers and no Debian drop-in stands in for them: bitnami/redis:7 (service cache), ghcr.io/acme/api:2 (service api)',
    );
    expect(e.hint).toMatch(/^load each from an archive first \(docker load -i <archive>\.tar; made elsewhere with docker save bitnami\/redis:7 ghcr\.io\/acme\/api:2\)/);
    expect(e.hint).toMatch(/nothing was started$/);
    // refused before anything changed: postgres, which a drop-in could stand in for, was not provided either
    expect(engine.built).toEqual([]);
    expect(engine.tagged).toEqual([]);
  });

  test('a base image of a Dockerfile nothing stands in for is named with the Dockerfile that names it', async () => {
    const context = mkdtempSync(path.join(os.tmpdir(), 'provide-images-'));
    writeFileSync(path.join(context, 'api.Dockerfile'), 'FROM mcr.microsoft.com/dotnet/sdk:8.0\n');
    const worker: ResolvedService = { name: 'worker', build: { context, dockerfile: 'api.Dockerfile', args: {} }, ports: [], hasHealthcheck: false };
    await expect(provideImages(config(worker), options(new FakeImageEngine()))).rejects.toThrow(
      /shop\/compose\.yaml names .*: mcr\.microsoft\.com\/dotnet\/sdk:8\.0 \(worker's api\.Dockerfile\)$/,
    );
  });
});
