/** The project's containers as the engine sees them (labels set by Compose v1 and v2 alike). */
import { probe, run } from '../exec/run.js';

export interface ContainerState {
  id: string;
  name: string;
  service: string;
  status: string; // created | running | restarting | exited | paused | dead
  health?: string; // starting | healthy | unhealthy
  exitCode: number;
  restartCount: number;
  image: string;
  ports: string[];
}

export async function projectContainers(project: string): Promise<ContainerState[]> {
  const ids = (await run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const r = await probe(['docker', 'inspect', ...ids]);
  // A container removed between ps and inspect makes inspect fail for that id only; keep the rest.
  const list = JSON.parse(r.stdout || '[]') as Array<{
    Id: string;
    Name: string;
    RestartCount: number;
    Config: { Labels: Record<string, string>; Image: string };
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
    NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null };
  }>;
  return list
    .map((c) => ({
      id: c.Id.slice(0, 12),
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels['com.docker.compose.service'] ?? '?',
      status: c.State.Status,
      health: c.State.Health?.Status,
      exitCode: c.State.ExitCode,
      restartCount: c.RestartCount,
      image: c.Config.Image,
      ports: Object.entries(c.NetworkSettings.Ports ?? {}).flatMap(([target, binds]) =>
        (binds ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${target}`),
      ),
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

export async function containerLogTail(id: string, lines = 20): Promise<string> {
  const r = await probe(['docker', 'logs', '--tail', String(lines), id]);
  return `${r.stdout}${r.stderr}`.trim();
}

/** One word per service: healthy, running, starting, unhealthy, exited (n), restarting, missing. */
export function serviceState(containers: ContainerState[], service: string, hasHealthcheck: boolean): string {
  const mine = containers.filter((c) => c.service === service);
  if (mine.length === 0) return 'missing';
  const states = mine.map((c) => {
    if (c.status === 'running') return c.health ?? (hasHealthcheck ? 'starting' : 'running');
    if (c.status === 'exited' || c.status === 'dead') return `exited (${c.exitCode})`;
    return c.status;
  });
  const order = ['unhealthy', 'exited', 'dead', 'restarting', 'missing', 'created', 'starting', 'paused', 'running', 'healthy'];
  return states.sort((a, b) => order.findIndex((o) => a.startsWith(o)) - order.findIndex((o) => b.startsWith(o)))[0]!;
}
