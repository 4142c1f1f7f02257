import { parsePort, parseResolvedConfig } from '../../src/stack/resolved-config.js';

describe('resolved Compose config', () => {
  test('v2 long port syntax', () => {
    expect(parsePort('web', { mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'tcp' })).toEqual([
      { service: 'web', hostIp: '127.0.0.1', published: 8080, target: 80, protocol: 'tcp' },
    ]);
  });
  test('v1 string port syntax, with and without host ip', () => {
    expect(parsePort('web', '127.0.0.1:8080:80/tcp')).toEqual([{ service: 'web', hostIp: '127.0.0.1', published: 8080, target: 80, protocol: 'tcp' }]);
    expect(parsePort('dns', '53:53/udp')).toEqual([{ service: 'dns', hostIp: '0.0.0.0', published: 53, target: 53, protocol: 'udp' }]);
    expect(parsePort('x', '3000')).toEqual([]);
  });
  test('services, builds, healthchecks and volumes', () => {
    const cfg = parseResolvedConfig(`
services:
  web:
    build: { context: /x/web, args: { NGINX_IMAGE: nginx:1.27 } }
    image: stackport-web:1
    ports: ["127.0.0.1:8080:80/tcp"]
    healthcheck: { test: [CMD, curl, x] }
  db:
    image: postgres:15
    healthcheck: { test: [NONE] }
volumes: { db-data: {} }
`);
    expect(cfg.services.map((s) => [s.name, s.hasHealthcheck, s.build?.args.NGINX_IMAGE ?? null])).toEqual([
      ['db', false, null],
      ['web', true, 'nginx:1.27'],
    ]);
    expect(cfg.volumes).toEqual(['db-data']);
  });
});
