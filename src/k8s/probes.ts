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

export const LIVENESS_MIN_PERIOD_SECONDS = 10;

/** A liveness period of at least 10 s, with enough failures to span retries x interval (2 at least). */
export function livenessTiming(periodSeconds: number, retries: number): { periodSeconds: number; failureThreshold: number } {
  if (periodSeconds >= LIVENESS_MIN_PERIOD_SECONDS) return { periodSeconds, failureThreshold: retries };
  const period = LIVENESS_MIN_PERIOD_SECONDS;
  return { periodSeconds: period, failureThreshold: Math.max(2, Math.ceil((retries * periodSeconds) / period)) };
}

export function probesFor(h: Healthcheck): Probes {
  const exec = { command: probeCommand(h) };
  const periodSeconds = seconds(h.intervalSeconds);
  const timeoutSeconds = seconds(h.timeoutSeconds);
  const base = { exec, periodSeconds, timeoutSeconds, failureThreshold: h.retries };
  const probes: Probes = {
    // Ready (and so in the Service's endpoints) as soon as one check passes: Compose's "healthy".
    readinessProbe: { ...base, successThreshold: 1 },
    // Restarted once unhealthy for as long as Compose would call it unhealthy (retries x interval),
    // acted upon. Liveness only decides on restarts, so it need not ask as often as readiness:
    // never more than every 10 s. An exec probe is a process in the container (a node or Erlang
    // VM for some images), and its CPU counts against the pod's request, which is what a
    // HorizontalPodAutoscaler scales on: a probe every 2 s kept an idle web pod at 26 % of 50m.
    livenessProbe: { ...base, exec: { command: [...exec.command] }, ...livenessTiming(periodSeconds, h.retries), successThreshold: 1 },
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
