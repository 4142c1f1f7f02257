import { plan } from '../../src/dev/update.js';
import { destFor, ruleFor } from '../../src/dev/sync-spec.js';
import { parseDevArgs } from '../../src/dev/dev.js';
import { loadProject, problemsOf, scratchDirs } from './helpers/fixtures.js';

const scratch = scratchDirs('devspec');
const svc = (extra: string) => `services:\n  web:\n    build: ./web\n    image: example/web:1\n${extra}`;
const load = (compose: string) => loadProject(scratch(), compose).services.find((s) => s.name === 'web')!;
const problems = (compose: string) => problemsOf(() => loadProject(scratch(), compose));

describe('x-stackport.dev.sync', () => {
  test('rules with compile and restart come through the loader', () => {
    const s = load(svc(`    x-stackport:
      dev:
        sync:
          - { src: html/, dest: /usr/share/nginx/html/ }
          - src: src
            dest: /app/dist/
            compile: { stage: deps, command: "tsc --outDir /tmp/out", output: /tmp/out }
            restart: hup
          - src: lib/
            dest: /app/lib/
            compile: { stage: deps, tsc: ./tsconfig.json }
`));
    expect(s.dev!.sync.map(({ pos: _p, ...r }) => r)).toEqual([
      { src: 'html/', dest: '/usr/share/nginx/html/', compile: undefined, restart: undefined },
      { src: 'src', dest: '/app/dist/', compile: { stage: 'deps', command: 'tsc --outDir /tmp/out', output: '/tmp/out' }, restart: 'SIGHUP' },
      { src: 'lib/', dest: '/app/lib/', compile: { stage: 'deps', tsc: 'tsconfig.json' }, restart: undefined },
    ]);
  });

  test('mistakes are reported with file:line:col, all at once', () => {
    expect(problems(svc(`    x-stackport:
      dev:
        sync:
          - { src: /etc/, dest: relative/ }
          - { src: ../up/, dest: /x/, restart: SIGNOPE }
          - { src: a/, dest: /a/, compile: { stage: deps }, wat: 1 }
          - { src: b/, dest: /b/, compile: { stage: deps, tsc: ../tsconfig.json, output: /o } }
        watch: yes
`)).sort()).toEqual([
      'compose.yaml:10:44: services.web.x-stackport.dev.sync[2].compile.command is required (or tsc: tsconfig.json for the resident TypeScript compiler)',
      'compose.yaml:10:61: services.web.x-stackport.dev.sync[2]: unknown key "wat" (known: src, dest, compile, restart)',
      'compose.yaml:11:64: services.web.x-stackport.dev.sync[3].compile.tsc must be a tsconfig path inside the build context, not "../tsconfig.json"',
      'compose.yaml:11:82: services.web.x-stackport.dev.sync[3].compile: output does not go with tsc (tsc is the resident TypeScript compiler; command and output run a command instead)',
      'compose.yaml:12:9: services.web.x-stackport.dev: unknown key "watch" (known: sync)',
      'compose.yaml:8:20: services.web.x-stackport.dev.sync[0].src must be a path inside the build context, not "/etc/"',
      'compose.yaml:8:33: services.web.x-stackport.dev.sync[0].dest must be an absolute path in the container, not "relative/"',
      'compose.yaml:9:20: services.web.x-stackport.dev.sync[1].src must be a path inside the build context, not "../up/"',
      'compose.yaml:9:48: services.web.x-stackport.dev.sync[1].restart must be a signal name such as SIGHUP, not "SIGNOPE"',
    ]);
  });

  test('an unknown key next to dev is still refused', () => {
    expect(problems(svc('    x-stackport:\n      devv: {}\n'))).toEqual(['compose.yaml:6:7: services.web.x-stackport: unknown key "devv"']);
  });

  test('files map to their rule and their place in the container', () => {
    const spec = load(svc('    x-stackport:\n      dev:\n        sync:\n          - { src: html/, dest: /usr/share/nginx/html/ }\n          - { src: robots.txt, dest: /srv/robots.txt }\n')).dev!;
    const html = ruleFor(spec, 'html/css/site.css')!;
    expect(destFor(html, 'html/css/site.css')).toBe('/usr/share/nginx/html/css/site.css');
    expect(destFor(ruleFor(spec, 'robots.txt')!, 'robots.txt')).toBe('/srv/robots.txt');
    expect(ruleFor(spec, 'htmlx/a')).toBeUndefined();
    expect(ruleFor(spec, 'Dockerfile')).toBeUndefined();
  });

  test('a batch is a sync only when every file is under a rule', () => {
    const spec = load(svc('    x-stackport:\n      dev:\n        sync:\n          - { src: html/, dest: /usr/share/nginx/html/ }\n')).dev!;
    const sync = plan(spec, ['html/a.html', 'html/b.css']);
    expect(sync.action).toBe('sync');
    expect(plan(spec, ['html/a.html', 'nginx.conf'])).toEqual({ action: 'rebuild+roll', because: 'nginx.conf' });
    expect(plan(undefined, ['html/a.html']).action).toBe('rebuild+roll');
  });
});

describe('dev arguments', () => {
  test('defaults and bad input (exit 2)', () => {
    expect(parseDevArgs([])).toMatchObject({ target: 'compose', logs: true });
    expect(parseDevArgs(['--target', 'cluster', '--namespace', 'stackport-dev', '--node-port', '30600'])).toMatchObject({ target: 'cluster', namespace: 'stackport-dev', nodePort: 30600 });
    const bad = (a: string[]) => {
      try {
        parseDevArgs(a);
      } catch (e) {
        return `${(e as Error).message} (exit ${(e as { exitCode: number }).exitCode})`;
      }
      return 'accepted';
    };
    expect(bad(['--target', 'swarm'])).toBe('--target must be compose or cluster, not "swarm" (exit 2)');
    expect(bad(['--node-port', '99999'])).toBe('--node-port must be a port number, not "99999" (exit 2)');
    expect(bad(['--namespace', 'Bad_NS'])).toBe('--namespace "Bad_NS" is not a valid namespace name (exit 2)');
    expect(bad(['--frobnicate'])).toMatch(/^unknown option --frobnicate \(exit 2\)/);
  });
});
