import { DEFAULT_CPU_REQUEST, horizontalPodAutoscaler } from '../../src/k8s/autoscaling.js';
import { DEFAULT_OPTIONS, transform, type K8sObject, type Manifests } from '../../src/k8s/transform.js';
import { loadProject, problemsOf, scratchDirs } from './helpers/fixtures.js';

const scratch = scratchDirs('hpa');

function manifests(compose: string): Manifests {
  const dir = scratch();
  return transform(loadProject(dir, compose), { ...DEFAULT_OPTIONS, displayBase: dir });
}

function problems(compose: string): string[] {
  return problemsOf(() => loadProject(scratch(), compose));
}

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const find = (m: Manifests, kind: string, name: string): Any => m.files.flatMap((f) => f.objects).find((o: K8sObject) => o.kind === kind && o.metadata?.name === name);
const svc = (extra: string) => `services:\n  api:\n    image: example/api:1\n${extra}`;

describe('x-stackport.autoscale -> HorizontalPodAutoscaler', () => {
  test('min, max and cpu become an autoscaling/v2 HPA on CPU utilisation targeting the Deployment', () => {
    const m = manifests(svc('    deploy:\n      resources:\n        reservations:\n          cpus: "0.25"\n    x-stackport:\n      autoscale: { min: 2, max: 5, cpu: 60 }\n'));
    const hpa = find(m, 'HorizontalPodAutoscaler', 'api');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    // in the service's own file, next to its Deployment
    expect(m.files.find((f) => f.path === 'api.yaml')!.objects.map((o) => o.kind)).toContain('HorizontalPodAutoscaler');
    const d = find(m, 'Deployment', 'api');
    expect(d.spec.template.spec.containers[0].resources.requests.cpu).toBe('250m');
    // the autoscaler owns the count: re-applying must not reset it
    expect(d.spec.replicas).toBeUndefined();
    // removed pods leave the Service before they are signalled
    expect(d.spec.template.spec.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    // several pods are expected: a disruption budget and a spread
    expect(find(m, 'PodDisruptionBudget', 'api')).toBeDefined();
    expect(d.spec.template.spec.topologySpreadConstraints).toHaveLength(1);
    expect(m.warnings).toEqual([]);
  });

  test('no CPU reservation: the stated default request, with a warning naming the line', () => {
    const m = manifests(svc('    x-stackport:\n      autoscale: { max: 3 }\n'));
    expect(find(m, 'Deployment', 'api').spec.template.spec.containers[0].resources.requests.cpu).toBe(DEFAULT_CPU_REQUEST);
    const hpa = find(m, 'HorizontalPodAutoscaler', 'api');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.target.averageUtilization]).toEqual([1, 3, 80]);
    expect(m.warnings.map((w) => `${w.pos?.line}:${w.pos?.col}: ${w.message}`)).toEqual([
      `5:7: services.api.x-stackport.autoscale: no deploy.resources.reservations.cpus; CPU request ${DEFAULT_CPU_REQUEST} assumed (the cpu target is a percentage of it)`,
    ]);
  });

  test('a CPU limit alone is the request (Kubernetes defaults requests to limits): no default added', () => {
    const m = manifests(svc('    cpus: 0.5\n    x-stackport:\n      autoscale: { max: 3, cpu: 50 }\n'));
    const c = find(m, 'Deployment', 'api').spec.template.spec.containers[0];
    expect(c.resources).toEqual({ limits: { cpu: '500m' } });
    expect(m.warnings).toEqual([]);
  });

  test('a StatefulSet can be autoscaled; a Job cannot (warned, ignored)', () => {
    const m = manifests(
      'services:\n  db:\n    image: postgres:15\n    volumes: [data:/d]\n    x-stackport:\n      autoscale: { max: 2 }\n  init:\n    image: x\n    x-stackport:\n      autoscale: { max: 2 }\n  app:\n    image: y\n    depends_on:\n      init: { condition: service_completed_successfully }\nvolumes:\n  data:\n',
    );
    expect(find(m, 'HorizontalPodAutoscaler', 'db').spec.scaleTargetRef.kind).toBe('StatefulSet');
    expect(find(m, 'StatefulSet', 'db').spec.replicas).toBeUndefined();
    expect(find(m, 'HorizontalPodAutoscaler', 'init')).toBeUndefined();
    expect(m.warnings.map((w) => w.message)).toContain('services.init.x-stackport.autoscale: a Job cannot be autoscaled; ignored');
  });

  test('services without the extension are untouched', () => {
    const m = manifests(svc('    deploy:\n      replicas: 2\n'));
    expect(find(m, 'HorizontalPodAutoscaler', 'api')).toBeUndefined();
    expect(find(m, 'Deployment', 'api').spec.replicas).toBe(2);
  });

  test('the object builder is plain data', () => {
    expect(horizontalPodAutoscaler('w', 'Deployment', { a: 'b' }, { min: 1, max: 4, cpu: 50, pos: { file: 'f', line: 1, col: 1 } }).metadata).toEqual({ name: 'w', labels: { a: 'b' } });
  });
});

describe('x-stackport.autoscale validation: every problem, with file:line:col', () => {
  test('min > max', () => {
    expect(problems(svc('    x-stackport:\n      autoscale:\n        min: 4\n        max: 2\n'))).toEqual(['compose.yaml:6:14: services.api.x-stackport.autoscale.min (4) must not exceed max (2)']);
  });

  test('non-integers and out-of-range values, all at once', () => {
    expect(problems(svc('    x-stackport:\n      autoscale: { min: 0.5, max: "many", cpu: 101 }\n'))).toEqual([
      'compose.yaml:5:25: services.api.x-stackport.autoscale.min must be an integer, not number 0.5',
      'compose.yaml:5:35: services.api.x-stackport.autoscale.max must be an integer, not "many"',
      'compose.yaml:5:48: services.api.x-stackport.autoscale.cpu must be a utilisation percentage between 1 and 100, not 101',
    ]);
  });

  test.each([
    ['cpu: 0', 'cpu must be a utilisation percentage between 1 and 100, not 0'],
    ['cpu: -5', 'cpu must be a utilisation percentage between 1 and 100, not -5'],
    ['min: 0', 'min must be at least 1, not 0'],
  ])('%s', (field, message) => {
    const lines = problems(svc(`    x-stackport:\n      autoscale: { max: 3, ${field} }\n`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^compose\.yaml:5:\d+: services\.api\.x-stackport\.autoscale\./);
    expect(lines[0]).toContain(message);
  });

  test('max is required; unknown keys and a global service are reported', () => {
    expect(problems('services:\n  agent:\n    image: a\n    deploy: { mode: global }\n    x-stackport:\n      autoscale: { min: 1, target: 3 }\n      scale: x\n')).toEqual([
      'compose.yaml:6:7: services.agent.x-stackport.autoscale: a global service runs one pod per node and cannot be autoscaled',
      'compose.yaml:6:18: services.agent.x-stackport.autoscale.max is required (the most replicas the autoscaler may run)',
      'compose.yaml:6:28: services.agent.x-stackport.autoscale: unknown key "target"',
      'compose.yaml:7:7: services.agent.x-stackport: unknown key "scale"',
    ]);
  });

  test('x-stackport must be a mapping', () => {
    expect(problems(svc('    x-stackport: 3\n'))).toEqual(['compose.yaml:4:18: services.api.x-stackport must be a mapping, not number 3']);
  });
});

describe('hpaRows (for k8s.mjs status)', () => {
  test('target, min..max, CPU target and reading, problems', async () => {
    const { hpaRows, formatHpaRow } = await import('../../src/operate/hpa-status.js');
    const rows = hpaRows([
      {
        metadata: { name: 'web' },
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { averageUtilization: 50 } } }] },
        status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 87 } } }] },
      },
      {
        metadata: { name: 'api' },
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 2 },
        status: { conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'no metrics' }] },
      },
    ]);
    expect(rows.map(formatHpaRow)).toEqual([
      'Deployment/api: 0 pod(s) (desired 0, 1..2) [FailedGetResourceMetric: no metrics]',
      'Deployment/web: 2 pod(s) (desired 3, 1..4), CPU 87%/50%',
    ]);
  });
});

describe('metrics-server manifests', () => {
  test('ServiceAccount, RBAC, APIService v1beta1.metrics.k8s.io, Deployment with the local flags', async () => {
    const { metricsServerObjects, METRICS_SERVER_IMAGE } = await import('../../src/cluster/addons/metrics-server.js');
    const objs = metricsServerObjects() as Any[];
    expect(objs.map((o) => o.kind).sort()).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'RoleBinding', 'Service', 'ServiceAccount']);
    const api = objs.find((o) => o.kind === 'APIService');
    expect(api.metadata.name).toBe('v1beta1.metrics.k8s.io');
    expect(api.spec.service).toEqual({ name: 'metrics-server', namespace: 'kube-system', port: 4443 });
    const d = objs.find((o) => o.kind === 'Deployment');
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe(METRICS_SERVER_IMAGE);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.args).toEqual(expect.arrayContaining(['--kubelet-insecure-tls', '--kubelet-preferred-address-types=InternalIP', '--metric-resolution=15s']));
    expect(d.spec.template.spec.hostNetwork).toBe(true);
  });
});

describe('autoscale picture', () => {
  test('replica steps, latency dots, failures in red, figures in the caption', async () => {
    const { renderAutoscale } = await import('../../src/bench/autoscale-svg.js');
    const svg = renderAutoscale({
      min: 1, max: 4, target: 50, scaleOutMs: 30_000, scaleOutDecisionMs: 25_000, peakReplicas: 3, scaleInMs: 40_000, loadMs: 60_000, failed: 1, peakCpu: 180,
      load: { total: 2, ok: 1, failed: 1, errors: { ECONNRESET: 1 }, tags: {}, p50: 5, p99: 9 },
      probe: { total: 0, ok: 0, failed: 0, errors: {}, tags: {}, p50: 0, p99: 0 },
      samples: [{ at: 0, desired: 1, ready: 1 }, { at: 30_000, desired: 3, ready: 3 }, { at: 100_000, desired: 1, ready: 1 }],
      records: [{ at: 100, ms: 5, ok: true }, { at: 200, ms: 0, ok: false, error: 'ECONNRESET' }],
      loadRecords: [],
      rates: [{ at: 0, perSecond: 150 }],
      podChanges: [{ at: 30_000, ready: 3 }],
      failures: [{ at: 200, error: 'ECONNRESET' }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('scale out 30 s · peak 3 pods · scale in 40 s after the load · 1 failed of 2 requests');
    expect(svg).toContain('fill="#e63946"');
    expect(svg.match(/<path /g)).toHaveLength(2);
  });
});
