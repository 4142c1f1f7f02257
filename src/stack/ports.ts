/** Is a host port free, and if not, who holds it? */
import net from 'node:net';
import { probe } from '../exec/run.js';

export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: host === '0.0.0.0' ? undefined : host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A readable description of the listener on `port` ("nginx (pid 123)", "container web-1"), when it can be found. */
export async function portHolder(port: number): Promise<string | undefined> {
  const ss = await probe(['ss', '-Hltnp', `sport = :${port}`]).catch(() => undefined);
  const m = ss && /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout);
  if (m) {
    const [, name, pid] = m;
    if (name === 'docker-proxy') {
      const ps = await probe(['docker', 'ps', '--filter', `publish=${port}`, '--format', '{{.Names}}']).catch(() => undefined);
      const names = ps?.stdout.trim();
      if (names) return `container ${names.split('\n').join(', ')} (docker-proxy pid ${pid})`;
    }
    return `${name} (pid ${pid})`;
  }
  const ps = await probe(['docker', 'ps', '--filter', `publish=${port}`, '--format', '{{.Names}}']).catch(() => undefined);
  const names = ps?.stdout.trim();
  return names ? `container ${names.split('\n').join(', ')}` : undefined;
}
