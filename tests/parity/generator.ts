/**
 * Random Compose projects, valid and invalid, drawn from the shapes of the Compose spec
 * (fast-check arbitraries): services with image/build, ports in short and long syntax,
 * environment as a list or a mapping with every interpolation form, volumes, depends_on,
 * healthchecks (including timings-only and `disable: false`), restart policies, profiles,
 * anchors, and values of the wrong type or out of range. Not a test file (no `.test.ts`).
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { ProjectArgs } from './shape.js';

export interface GeneratedCase {
  /** compose.yaml's text. */
  compose: string;
  /** .env's text (undefined: no .env). */
  dotenv?: string;
  /** An override file merged after compose.yaml (written as compose.override.yaml). */
  override?: string;
  args: ProjectArgs;
}

const interp = fc.constantFrom(
  'plain',
  '${A}',
  '$A-suffix',
  '${A:-fallback}',
  '${UNSET:-fallback}',
  '${UNSET-fallback}',
  '${EMPTY:-was empty}',
  '${EMPTY-kept empty}',
  '${A:+alternative}',
  '${UNSET:+alternative}',
  '${A:-${B}}',
  '${UNSET:-${B:-deep}}',
  '$$literal',
  'cost $$5',
  'http://${HOST:-localhost}:${PORT:-80}/',
  '${A:?}',
);
/** Interpolations Compose refuses (a required variable that is unset or empty, a malformed reference). */
const badInterp = fc.constantFrom('${UNSET:?UNSET_must_be_set}', '${UNSET?}', '${EMPTY:?empty is not enough}', '${A:?A is required}', '${', '${A:-x');

const image = fc.constantFrom('nginx:1.25', 'redis:7', 'postgres:16-alpine', 'ghcr.io/acme/api:${TAG:-latest}', 'registry.local:5000/app', 'busybox');

const shortPort = fc.constantFrom('80', '8080:80', '127.0.0.1:8080:80', '53:53/udp', '8000-8002:8000-8002', '${PORT:-8080}:80', '9000:9000/tcp', '[::1]:8443:443');
const longPort = fc.record({ target: fc.constantFrom(80, 443, 5432), published: fc.constantFrom<unknown>(8080, '8443', 9), protocol: fc.constantFrom('tcp', 'udp') }, { requiredKeys: ['target'] });
const ports = fc.array(fc.oneof({ weight: 3, arbitrary: shortPort }, { weight: 1, arbitrary: longPort }), { maxLength: 3 });

const envValue = fc.oneof(interp, fc.constantFrom<unknown>(1, 0, true, false, 1.5, null, ''));
const envName = fc.constantFrom('APP_MODE', 'DB_PASSWORD', 'API_TOKEN', 'LOG_LEVEL', 'A', 'URL');
const environment = fc.oneof(
  fc.dictionary(envName, envValue, { maxKeys: 4 }),
  fc.array(fc.oneof(fc.tuple(envName, interp).map(([k, v]) => `${k}=${v}`), envName), { maxLength: 4 }),
);

const volume = fc.constantFrom<unknown>('data:/var/lib/data', './html:/usr/share/nginx/html:ro', '/srv/shared:/shared', '/cache', 'data:/ro:ro', { type: 'bind', source: './conf', target: '/etc/conf', read_only: true }, { type: 'volume', source: 'data', target: '/v' }, { type: 'tmpfs', target: '/scratch' });

const healthcheck = fc.oneof(
  { weight: 5, arbitrary: fc.record({ test: fc.constantFrom<unknown>(['CMD', 'true'], ['CMD-SHELL', 'exit 0'], 'wget -q -O- http://localhost/', ['CMD', 'pg_isready', '-U', 'app']), interval: fc.constantFrom('5s', '1m30s', '500ms', '10s'), timeout: fc.constantFrom('3s', '1s'), retries: fc.constantFrom(3, 5), start_period: fc.constantFrom('10s', '0s') }, { requiredKeys: ['test'] }) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>({ disable: true }, { disable: false }, { interval: '10s' }, { interval: '20s', retries: 2 }, { test: ['NONE'] }) },
);

const restart = fc.constantFrom('always', 'no', 'on-failure:3', 'unless-stopped', 'on-failure');

/** One mistake put into an otherwise valid service: [key, value]. */
const mistake = fc.oneof(
  fc.constantFrom<[string, unknown]>(
    ['ports', ['70000:80']],
    ['ports', ['abc']],
    ['ports', ['8080:80/icmp']],
    ['ports', [{ published: 8080 }]],
    ['ports', [{ target: 'eighty' }]],
    ['volumes', [{ type: 'bind', target: '/no-source' }]],
    ['volumes', [{ type: 'weird', target: '/w' }]],
    ['healthcheck', { test: ['CMD', 'true'], interval: 'soon' }],
    ['healthcheck', { test: 42 }],
    ['healthcheck', { test: ['CMD', 'true'], retries: 'many' }],
    ['depends_on', ['ghost']],
    ['depends_on', { ghost: { condition: 'service_started', required: true } }],
    ['depends_on', { ghost: { condition: 'service_ready' } }],
    ['imagee', 'typo'],
    ['stop_grace_period', 'forever'],
    ['environment', 'not a list'],
    ['command', 42],
  ),
  badInterp.map((v): [string, unknown] => ['environment', { SECRET_KEY: v }]),
  badInterp.map((v): [string, unknown] => ['image', `nginx:${v}`]),
  badInterp.map((v): [string, unknown] => ['ports', [`${v}:80`]]),
);

const NAMES = ['web', 'api', 'db', 'cache', 'worker'];

const serviceBody = (others: string[]) =>
  fc.record(
    {
      image,
      build: fc.constantFrom<unknown>('./app', { context: '.', dockerfile: 'Dockerfile.dev' }),
      command: fc.constantFrom<unknown>('npm start', ['python', 'app.py'], 'sh -c "echo $$HOME"'),
      ports,
      expose: fc.constantFrom<unknown>(['3000'], [8080, '9000/udp']),
      environment,
      volumes: fc.array(volume, { maxLength: 3 }),
      depends_on: others.length
        ? fc.oneof(
            fc.subarray(others),
            fc.dictionary(fc.constantFrom(...others), fc.record({ condition: fc.constantFrom('service_started', 'service_healthy', 'service_completed_successfully'), required: fc.boolean() }, { requiredKeys: ['condition'] }), { maxKeys: 2 }),
          )
        : fc.constant([]),
      healthcheck,
      restart,
      profiles: fc.constantFrom<unknown>(['debug'], ['tools', 'debug']),
      tmpfs: fc.constantFrom<unknown>('/run', ['/tmp', '/run']),
      stop_grace_period: fc.constantFrom('10s', '1m'),
    },
    { requiredKeys: [] },
  ).map((svc) => ({ image: svc.image ?? 'busybox', ...svc }) as Record<string, unknown>);

export const generatedCase: fc.Arbitrary<GeneratedCase> = fc
  .uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 })
  .chain((names) =>
    fc.record({
      services: fc.tuple(...names.map((n) => serviceBody(names.filter((o) => o !== n)))).map((bodies) => Object.fromEntries(names.map((n, i) => [n, bodies[i]]))),
      declareData: fc.boolean(),
      dotenv: fc.option(fc.constantFrom('A=from-dotenv\nB=b\nEMPTY=\nTAG=1.2\n', 'A=x\nPORT=8081\nCOMPOSE_PROFILES=debug\n', '# only comments\n', 'A="quoted-value"\nB=${A}-ref\n', 'COMPOSE_PROJECT_NAME=fromenv\nA=1\n'), { nil: undefined }),
      override: fc.option(fc.record({ image: fc.constantFrom('nginx:override'), ports: fc.constantFrom(['8080:80', '9999:99']), environment: fc.constantFrom({ A: 'over' }, ['LOG_LEVEL=debug']), healthcheck: fc.constantFrom({ interval: '2s' }, { test: ['CMD', 'false'] }) }, { requiredKeys: [] }), { nil: undefined }),
      profiles: fc.option(fc.constantFrom<string[]>(['debug'], ['*'], ['tools']), { nil: undefined }),
      env: fc.constantFrom<Record<string, string>>({}, { A: 'from-shell' }, { TAG: 'shell-tag', PORT: '7000' }),
      // About one case in four carries one mistake.
      mistake: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat(names.length - 1), mistake) }),
    }),
  )
  .map(({ services, declareData, dotenv, override, profiles, env, mistake }) => {
    if (mistake) {
      const [at, [key, value]] = mistake;
      (services[Object.keys(services)[at]!] as Record<string, unknown>)[key] = value;
    }
    const doc: Record<string, unknown> = { services };
    // Named volumes used by the services are declared (a forgotten one is a mistake of its own).
    if (declareData || JSON.stringify(services).includes('data')) doc.volumes = { data: {} };
    const first = Object.keys(services)[0]!;
    return {
      compose: stringify(doc),
      dotenv,
      override: override && Object.keys(override).length ? stringify({ services: { [first]: override } }) : undefined,
      args: { profiles, env },
    };
  });

/** `count` cases from `seed` (the same seed gives the same cases). */
export function sampleCases(seed: number, count: number): GeneratedCase[] {
  return fc.sample(generatedCase, { seed, numRuns: count });
}
