import { escapeEnvValue } from '../../src/k8s/config-and-secrets.js';
import { dnsLabel, isDnsLabel } from '../../src/k8s/names.js';
import { DEFAULT_OPTIONS, entryService, ranges, transform, type K8sObject, type Manifests, type TransformOptions } from '../../src/k8s/transform.js';
import { loadProject, scratchDirs } from './helpers/fixtures.js';

const scratch = scratchDirs('k8s');

function manifests(compose: string, files: Record<string, string> = {}, options: Partial<TransformOptions> = {}): Manifests {
  const dir = scratch();
  return transform(loadProject(dir, compose, files), { ...DEFAULT_OPTIONS, displayBase: dir, ...options });
}

// Loose access to plain objects in assertions.
type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const all = (m: Manifests): K8sObject[] => m.files.flatMap((f) => f.objects);
const find = (m: Manifests, kind: string, name: string): Any => {
  const o = all(m).find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${all(m).map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
};
const pod = (w: Any) => w.spec.template.spec;
const main = (w: Any) => pod(w).containers[0];

describe('workload kinds', () => {
  const m = manifests(`services:
  web: {image: nginx:1.27}
  db:
    image: postgres:16
    volumes: [pgdata:/var/lib/postgresql/data]
  agent:
    image: agent:1
    deploy: {mode: global}
  migrate:
    image: app:1
    restart: "no"
  app:
    image: app:1
    depends_on:
      migrate: {condition: service_completed_successfully}
volumes:
  pgdata:
`);
  test('stateless -> Deployment, named volume -> StatefulSet, global -> DaemonSet, completed_successfully target -> Job', () => {
    expect(find(m, 'Deployment', 'web')).toBeDefined();
    expect(find(m, 'StatefulSet', 'db').spec.serviceName).toBe('db');
    expect(find(m, 'DaemonSet', 'agent')).toBeDefined();
    const job = find(m, 'Job', 'migrate');
    expect(job.spec.backoffLimit).toBe(0);
    expect(pod(job).restartPolicy).toBe('Never');
    expect(all(m).some((o) => o.kind === 'Service' && o.metadata?.name === 'migrate')).toBe(false);
  });
  test('a dependant of a Job waits for it through the API with a Role that can read Jobs', () => {
    const app = find(m, 'Deployment', 'app');
    expect(pod(app).serviceAccountName).toBe('demo-job-waiter');
    expect(pod(app).initContainers[0].name).toBe('wait-for-migrate');
    expect(find(m, 'Role', 'demo-job-waiter').rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] }]);
    expect(find(m, 'RoleBinding', 'demo-job-waiter').subjects[0]).toMatchObject({ kind: 'ServiceAccount', name: 'demo-job-waiter' });
  });
  test('StatefulSet claims bind on the default StorageClass: no storageClassName, ReadWriteOnce', () => {
    const [claim] = find(m, 'StatefulSet', 'db').spec.volumeClaimTemplates;
    expect(claim.metadata.name).toBe('pgdata');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    expect(main(find(m, 'StatefulSet', 'db')).volumeMounts).toEqual([{ name: 'pgdata', mountPath: '/var/lib/postgresql/data' }]);
  });
});

describe('pod spec', () => {
  test('images: built ones get an explicit tag, nothing is ever pulled', () => {
    const m = manifests('name: shop\nservices:\n  api:\n    build: ./api\n  tagged:\n    build: .\n    image: shop/tagged:2\n  pulled:\n    image: redis:7\n', {}, { buildTag: 'dev' });
    expect(main(find(m, 'Deployment', 'api'))).toMatchObject({ image: 'demo-api:dev', imagePullPolicy: 'IfNotPresent' });
    expect(main(find(m, 'Deployment', 'tagged')).image).toBe('shop/tagged:2');
    expect(main(find(m, 'Deployment', 'pulled')).imagePullPolicy).toBe('IfNotPresent');
    expect(m.images).toEqual(['demo-api:dev', 'redis:7', 'shop/tagged:2']);
  });
  test('entrypoint -> command, command -> args, working_dir, user -> securityContext, resources', () => {
    const m = manifests(`services:
  a:
    image: a:1
    entrypoint: ["/entry.sh"]
    command: serve --port 80
    working_dir: /srv
    user: "1000:2000"
    read_only: true
    cap_add: [NET_ADMIN]
    deploy:
      resources:
        limits: {cpus: "1.5", memory: 1G}
        reservations: {cpus: "0.25", memory: 128M}
`);
    expect(main(find(m, 'Deployment', 'a'))).toMatchObject({
      command: ['/entry.sh'],
      args: ['serve', '--port', '80'],
      workingDir: '/srv',
      securityContext: { runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN'] } },
      resources: { limits: { cpu: '1500m', memory: '1Gi' }, requests: { cpu: '250m', memory: '128Mi' } },
    });
  });
  test('replicas, rolling update (start-first -> maxUnavailable 0), PDB and spread for replicas > 1', () => {
    const m = manifests('services:\n  a:\n    image: a:1\n    deploy:\n      replicas: 3\n      update_config: {order: start-first, parallelism: 2}\n  b:\n    image: b:1\n    deploy:\n      update_config: {order: stop-first}\n');
    const a = find(m, 'Deployment', 'a');
    expect(a.spec.replicas).toBe(3);
    expect(a.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
    expect(pod(a).topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: a.spec.selector.matchLabels } }]);
    expect(find(m, 'PodDisruptionBudget', 'a').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: a.spec.selector.matchLabels } });
    expect(find(m, 'Deployment', 'b').spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(all(m).some((o) => o.kind === 'PodDisruptionBudget' && o.metadata?.name === 'b')).toBe(false);
  });
  test('hostname: kept for Deployments; a StatefulSet pod is named after its ordinal (warned)', () => {
    const m = manifests('services:\n  a:\n    image: a:1\n    hostname: alpha\n  b:\n    image: b:1\n    hostname: beta\n    volumes: [d:/d]\nvolumes:\n  d:\n');
    expect(pod(find(m, 'Deployment', 'a')).hostname).toBe('alpha');
    expect(pod(find(m, 'StatefulSet', 'b')).hostname).toBeUndefined();
    expect(m.warnings.map((w) => w.message)).toContain('services.b.hostname: a StatefulSet pod is named after its ordinal (b-0), which is its hostname; "beta" ignored (software that keys data by hostname, like RabbitMQ\'s node name, sees the new name)');
  });
  test('placement constraints -> required node affinity', () => {
    const m = manifests('services:\n  a:\n    image: a:1\n    deploy:\n      placement:\n        constraints: ["node.labels.disk == ssd", "node.role == manager"]\n');
    expect(pod(find(m, 'Deployment', 'a')).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'disk', operator: 'In', values: ['ssd'] },
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' },
    ]);
  });
  test('restart policies: Always for long-running pods (with a warning when Compose said otherwise), OnFailure for jobs', () => {
    const m = manifests('services:\n  a:\n    image: a:1\n    restart: on-failure\n  job:\n    image: j:1\n    restart: on-failure:4\n  b:\n    image: b:1\n    depends_on:\n      job: {condition: service_completed_successfully}\n');
    expect(pod(find(m, 'Deployment', 'a')).restartPolicy).toBe('Always');
    expect(m.warnings.map((w) => w.message)).toContain('services.a: restart "on-failure" -> a Deployment always restarts its pods; restartPolicy Always');
    expect(pod(find(m, 'Job', 'job')).restartPolicy).toBe('OnFailure');
    expect(find(m, 'Job', 'job').spec.backoffLimit).toBe(4);
  });
  test('labels: app.kubernetes.io/* on everything; Compose labels carried as labels or annotations', () => {
    const m = manifests('services:\n  a:\n    image: a:1\n    labels:\n      com.example.tier: backend\n      com.example.description: "Free text, with spaces"\n');
    const d = find(m, 'Deployment', 'a');
    expect(d.metadata.labels).toEqual({ 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/managed-by': 'stackport', 'app.kubernetes.io/name': 'a', 'app.kubernetes.io/part-of': 'demo' });
    expect(d.spec.template.metadata.labels['com.example.tier']).toBe('backend');
    expect(d.spec.template.metadata.annotations).toEqual({ 'com.example.description': 'Free text, with spaces' });
  });
});

describe('depends_on -> init containers', () => {
  const m = manifests(`services:
  web:
    image: web:1
    depends_on:
      api: {condition: service_healthy}
      cache: {condition: service_started}
  api:
    image: api:1
    expose: ["3000"]
    healthcheck: {test: ["CMD", "true"]}
  cache:
    image: redis:7
`, {}, { waitImage: 'busybox:1.36' });
  test('one per dependency, sorted: TCP to the Service port, or DNS for port-less services', () => {
    const init = pod(find(m, 'Deployment', 'web')).initContainers;
    expect(init.map((c: Any) => c.name)).toEqual(['wait-for-api', 'wait-for-cache']);
    expect(init[0].command[2]).toContain('nc -z -w 2 api 3000');
    expect(init[1].command[2]).toContain('getent hosts cache');
    expect(init[0].image).toBe('busybox:1.36');
    expect(m.images).toContain('busybox:1.36');
  });
  test('by default the dependant\'s own image waits (it is on the node already)', () => {
    const self = manifests('services:\n  a:\n    image: a:1\n    depends_on: [b]\n  b:\n    image: b:1\n');
    expect(pod(find(self, 'Deployment', 'a')).initContainers[0].image).toBe('a:1');
  });
});

describe('Services', () => {
  const m = manifests(`services:
  web:
    image: nginx:1
    ports: ["127.0.0.1:8080:80", "8443:443"]
  dns:
    image: coredns:1
    ports: ["53:53/udp", "53:53/tcp", "9000-9002:9000-9002"]
  redis:
    image: redis:7
  db:
    image: postgres:16
    expose: ["5432"]
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data:
`);
  test('ports from `ports` (container side) and `expose`; unique names per port and protocol', () => {
    expect(find(m, 'Service', 'dns').spec.ports.map((p: Any) => `${p.name}:${p.port}/${p.protocol}`)).toEqual(['tcp-53:53/TCP', 'udp-53:53/UDP', 'tcp-9000:9000/TCP', 'tcp-9001:9001/TCP', 'tcp-9002:9002/TCP']);
    expect(find(m, 'Service', 'web').spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'tcp-80', port: 80, targetPort: 80, protocol: 'TCP' }, { name: 'tcp-443', port: 443 }] });
  });
  test('no ports -> headless Service without ports, so the name still resolves', () => {
    expect(find(m, 'Service', 'redis').spec).toEqual({ clusterIP: 'None', selector: { 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/name': 'redis' } });
  });
  test('StatefulSets get a headless Service', () => {
    expect(find(m, 'Service', 'db').spec).toMatchObject({ clusterIP: 'None', ports: [{ port: 5432 }] });
  });
  test('the entry: the published service nothing depends on, on host port 8090; its NodePort left to the API server', () => {
    expect(m.entry).toEqual({
      service: 'web',
      name: 'web',
      ports: [
        { name: 'tcp-80', port: 80, protocol: 'TCP', hostPort: 8090 },
        { name: 'tcp-443', port: 443, protocol: 'TCP', hostPort: 8091 },
      ],
    });
  });
  test('a NodePort asked for is used, counting up per port', () => {
    const fixed = manifests('services:\n  web:\n    image: nginx\n    ports: ["80:80", "443:443"]\n', {}, { nodePort: 30080 });
    expect(fixed.entry!.ports.map((p) => p.nodePort)).toEqual([30080, 30081]);
  });
  test('the namespace is the project\'s own unless given', () => {
    expect(m.namespace).toBe('demo');
    expect(find(m, 'Namespace', 'demo').metadata).toMatchObject({ name: 'demo' });
  });
  test('entry selection prefers what nothing depends on, then web ports, then services without profiles', () => {
    const m2 = manifests('services:\n  db:\n    image: p\n    ports: ["5432:5432"]\n  ui:\n    image: u\n    ports: ["8080:8080"]\n    depends_on: [db]\n  tool:\n    image: t\n    profiles: [x]\n    ports: ["8081:80"]\n');
    expect(entryService(m2.app)?.name).toBe('ui');
    expect(entryService(m2.app, 'db')?.name).toBe('db');
    expect(m2.warnings.map((w) => w.message)).toContain('services.db.ports: only the entry service (ui) is published; db port 5432 is reachable inside the cluster only (use kubectl port-forward from the host)');
  });
});

describe('storage', () => {
  const m = manifests(
    `services:
  web:
    image: nginx:1
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
      - ./html:/usr/share/nginx/html
      - /var/run/docker.sock:/var/run/docker.sock
      - /etc/localtime:/etc/localtime:ro
      - /cache
    tmpfs: [/tmp]
    shm_size: 64m
`,
    { 'nginx.conf': 'events {}\n', 'html/index.html': '<h1>hi</h1>' },
  );
  const web = find(m, 'Deployment', 'web');
  test('a bind-mounted file -> ConfigMap mounted with subPath; pods roll when it changes', () => {
    expect(find(m, 'ConfigMap', 'web-files').data).toEqual({ 'nginx.conf': 'events {}\n' });
    expect(main(web).volumeMounts[0]).toEqual({ name: 'bind-0', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf', readOnly: true });
    expect(pod(web).volumes[0]).toEqual({ name: 'bind-0', configMap: { name: 'web-files', items: [{ key: 'nginx.conf', path: 'nginx.conf' }] } });
    expect(web.spec.template.metadata.annotations['stackport.dev/files-hash']).toMatch(/^[0-9a-f]{16}$/);
  });
  test('a bind-mounted directory -> emptyDir and a warning that says so', () => {
    expect(pod(web).volumes[1]).toEqual({ name: 'bind-1', emptyDir: {} });
    expect(m.warnings.map((w) => w.message)).toContain("services.web.volumes: bind-mounted directory ./html is not on the cluster's nodes; mounted an empty directory instead (copy the files into the image, or use a named volume)");
  });
  test('host paths outside the project -> hostPath (except the Docker socket); anonymous -> emptyDir; tmpfs and shm -> memory', () => {
    expect(pod(web).volumes.slice(2)).toEqual([
      { name: 'bind-2', emptyDir: {} },
      { name: 'bind-3', hostPath: { path: '/etc/localtime' } },
      { name: 'anon-4', emptyDir: {} },
      { name: 'tmpfs-5', emptyDir: { medium: 'Memory' } },
      { name: 'tmpfs-6', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    ]);
  });
});

describe('config and secrets', () => {
  const m = manifests(
    `services:
  api:
    image: api:1
    environment:
      DB_HOST: db
      DB_PASSWORD: \${DB_PASSWORD}
      API_KEY: literal-but-secret
      USER_NAME: \${USER_NAME:-app}
      DEBUG: "true"
      TEMPLATE: "$$(not a kubelet ref)"
    secrets:
      - db_cert
      - source: token
        target: /etc/token
    configs:
      - source: settings
        target: /etc/settings.toml
secrets:
  db_cert: {file: ./cert.pem}
  token: {environment: TOKEN}
configs:
  settings: {file: ./settings.toml}
`,
    { 'cert.pem': 'CERT', 'settings.toml': 'a = 1\n' },
  );
  const api = find(m, 'Deployment', 'api');
  test('secret-named and variable values -> Secret refs; literals stay inline; no secret value anywhere', () => {
    expect(main(api).env).toEqual([
      { name: 'DB_HOST', value: 'db' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'api-env', key: 'DB_PASSWORD' } } },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api-env', key: 'API_KEY' } } },
      { name: 'USER_NAME', valueFrom: { secretKeyRef: { name: 'api-env', key: 'USER_NAME' } } },
      { name: 'DEBUG', value: 'true' },
      { name: 'TEMPLATE', value: '$$(not a kubelet ref)' },
    ]);
    expect(JSON.stringify(all(m))).not.toContain('literal-but-secret');
    expect(JSON.stringify(all(m))).not.toContain('CERT');
  });
  test('kustomize secretGenerators read git-ignored files under secrets/', () => {
    expect(m.secretGenerators).toEqual([
      { name: 'api-env', envs: ['secrets/api.env'] },
      { name: 'db-cert', files: ['db_cert=secrets/files/db_cert'] },
      { name: 'token', files: ['token=secrets/files/token'] },
    ]);
  });
  test('secrets mount at /run/secrets/<target>; configs are ConfigMaps at their target', () => {
    expect(main(api).volumeMounts).toEqual([
      { name: 'secret-0', mountPath: '/run/secrets/db_cert', subPath: 'db_cert', readOnly: true },
      { name: 'secret-1', mountPath: '/etc/token', subPath: 'token', readOnly: true },
      { name: 'config-0', mountPath: '/etc/settings.toml', subPath: 'settings', readOnly: true },
    ]);
    expect(find(m, 'ConfigMap', 'settings').data).toEqual({ settings: 'a = 1\n' });
  });
  test('$( in literals is escaped so the kubelet does not expand it', () => {
    expect(escapeEnvValue('a $(b) $c')).toBe('a $$(b) $c');
  });
});

describe('network policies', () => {
  const m = manifests('services:\n  proxy:\n    image: nginx:1\n    ports: ["8080:80"]\n    networks: [front]\n  app:\n    image: app:1\n    networks: [front, back]\n  db:\n    image: pg:1\n    networks: [back]\nnetworks:\n  front:\n  back:\n');
  test('default deny, one policy per network, the entry open on its ports', () => {
    expect(find(m, 'NetworkPolicy', 'demo-default-deny').spec).toEqual({ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'demo' } }, policyTypes: ['Ingress'] });
    const back = find(m, 'NetworkPolicy', 'demo-net-back').spec;
    expect(back.podSelector).toEqual({ matchLabels: { 'network.stackport.dev/back': 'true' } });
    expect(back.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { 'network.stackport.dev/back': 'true' } } }] }]);
    expect(find(m, 'NetworkPolicy', 'demo-entry').spec.ingress).toEqual([{ ports: [{ port: 80, protocol: 'TCP' }] }]);
  });
  test('pods carry the labels of their networks', () => {
    const labels = find(m, 'Deployment', 'app').spec.template.metadata.labels;
    expect(labels['network.stackport.dev/front']).toBe('true');
    expect(labels['network.stackport.dev/back']).toBe('true');
    expect(find(m, 'Deployment', 'db').spec.template.metadata.labels['network.stackport.dev/front']).toBeUndefined();
  });
});

describe('names', () => {
  test.each([
    ['pdf_bot', 'pdf-bot'],
    ['My.Service', 'my-service'],
    ['__x__', 'x'],
    ['a'.repeat(70), 'a'.repeat(63)],
  ])('%s -> %s', (from, to) => {
    expect(dnsLabel(from)).toBe(to);
    expect(isDnsLabel(dnsLabel(from))).toBe(true);
  });
  test('invalid service names are renamed everywhere and reported', () => {
    const m = manifests('services:\n  pdf_bot:\n    image: a:1\n  web:\n    image: w:1\n    depends_on: [pdf_bot]\n');
    expect(find(m, 'Deployment', 'pdf-bot')).toBeDefined();
    expect(pod(find(m, 'Deployment', 'web')).initContainers[0].name).toBe('wait-for-pdf-bot');
    expect(m.warnings[0]!.message).toBe('services.pdf_bot: "pdf_bot" is not a valid Kubernetes name; the service is named "pdf-bot" in the cluster (containers that reach it as "pdf_bot" must use "pdf-bot")');
  });
  test('port lists collapse into ranges', () => expect(ranges([9002, 80, 9000, 9001])).toBe('80, 9000-9002'));
});
