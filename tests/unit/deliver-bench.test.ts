import path from 'node:path';
import { mb, officialOf, parseDeliverArgs } from '../../src/bench/deliver-bench.js';
import { StackportError } from '../../src/errors.js';

const root = path.resolve(__dirname, '../..');

describe('make bench-deliver', () => {
  test('arguments: the demo images by default, runs bounded', () => {
    const a = parseDeliverArgs([]);
    expect(a.images).toEqual(['stackport-web:1', 'stackport-api:1', 'stackport/postgres:15-bookworm', 'stackport/rabbitmq:3.10-bookworm']);
    expect(parseDeliverArgs(['--runs=5', '--images=a:1,b:2']).images).toEqual(['a:1', 'b:2']);
    expect(() => parseDeliverArgs(['--runs=0'])).toThrow(StackportError);
  });

  test('each image is shown beside the official one where its size is known', async () => {
    expect(await officialOf('stackport/postgres:15-bookworm', root)).toBe('postgres:15: 430 MB');
    expect(await officialOf('stackport/nginx:1.22-bookworm', root)).toBe('nginx:1.27: 192 MB');
    expect(await officialOf('nginx:1.21.6', root)).toBe('nginx:1.27: 192 MB');
    // the demo's web is built FROM the official nginx by default (compose/web/Dockerfile)
    expect(await officialOf('stackport-web:1', root)).toBe('on nginx:1.27: 192 MB + app');
    // not measured here: no registry answers on this machine
    expect(await officialOf('stackport/rabbitmq:3.10-bookworm', root)).toBe('-');
    expect(await officialOf('someone/else:1', root)).toBe('-');
    expect(mb(95_312_345)).toBe('95 MB');
  });
});
