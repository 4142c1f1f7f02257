/**
 * healthcheck -> readinessProbe AND livenessProbe (kompose only makes the liveness one), plus
 * a startupProbe that covers start_period. CMD runs as exec argv, CMD-SHELL through /bin/sh -c.
 */
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { Healthcheck } from '../model/app.js';

export interface Probes {
  readinessProbe: IProbe;
  livenessProbe: IProbe;
  startupProbe?: IProbe;
}

const seconds = (s: number) => Math.max(1, Math.ceil(s));

export function probeCommand(h: Healthcheck): string[] {
  return h.kind === 'exec' ? [...h.command] : ['/bin/sh', '-c', h.command[0]!];
}

export function probesFor(h: Healthcheck): Probes {
  const exec = { command: probeCommand(h) };
  const periodSeconds = seconds(h.intervalSeconds);
  const timeoutSeconds = seconds(h.timeoutSeconds);
  const base = { exec, periodSeconds, timeoutSeconds, failureThreshold: h.retries };
  const probes: Probes = {
    // Ready (and so in the Service's endpoints) as soon as one check passes: Compose's "healthy".
    readinessProbe: { ...base, successThreshold: 1 },
    // Restarted after `retries` failures in a row: Compose's "unhealthy", acted upon.
    livenessProbe: { ...base, exec: { command: [...exec.command] }, successThreshold: 1 },
  };
  if (h.startPeriodSeconds && h.startPeriodSeconds > 0) {
    // During start_period failures do not count: the startup probe allows that long (plus the usual retries)
    // before liveness takes over, checking every start_interval (default 5 s, never slower than interval).
    const period = seconds(h.startIntervalSeconds ?? Math.min(5, h.intervalSeconds));
    probes.startupProbe = {
      exec: { command: [...exec.command] },
      periodSeconds: period,
      timeoutSeconds,
      failureThreshold: Math.ceil(h.startPeriodSeconds / period) + h.retries,
      successThreshold: 1,
    };
  }
  return probes;
}
