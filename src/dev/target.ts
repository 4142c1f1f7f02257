import type { ProjectChecks } from './smoke-service.js';
/**
 * Where `make dev` puts changes: the Compose stack (containers) or the cluster (pods). Both
 * answer the same few questions, so the update logic (update.ts) is written once.
 */
import type { SmokeTarget } from '../smoke/smoke.js';

export interface Instance {
  /** Container ID or pod name. */
  id: string;
  /** For messages: the container's or pod's name. */
  name: string;
}

export interface Rolled {
  /** What was done, for the update line ("image rebuilt, container recreated"). */
  did: string;
}

export interface LogStream {
  /** Follow again (after a roll replaced the instances). */
  restart?(): void;
  stop(): void;
}

export interface DevService {
  name: string;
  /** Absolute build context. */
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  image: string;
}

export interface DevTarget {
  readonly name: 'compose' | 'cluster';
  /** Running containers or pods of a service. */
  instances(service: string): Promise<Instance[]>;
  /** Extracts a tar archive (paths from /) into an instance. */
  copy(service: string, instance: Instance, archive: Buffer): Promise<void>;
  /** Runs a command in an instance; a non-zero exit is returned, not thrown. */
  exec(service: string, instance: Instance, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Sends a signal to the instance's main process. */
  signal(service: string, instance: Instance, signal: NodeJS.Signals): Promise<void>;
  /** The last log lines of an instance (for errors). */
  logTail(service: string, instance: Instance, lines?: number): Promise<string>;
  /** Builds the service's image (layer cache), delivers it, rolls only that service and waits until it is ready. Rolls back when it does not get ready. */
  rebuild(service: DevService, update: (d: string) => void): Promise<Rolled>;
  /** Puts back what the last rebuild of the service replaced (after its smoke checks failed). */
  undo(service: DevService): Promise<void>;
  smokeTarget(): SmokeTarget;
  /** A user's project: its declared checks and a target that runs them (undefined for the demo, whose checks are per service). */
  projectChecks?(): Promise<ProjectChecks | undefined>;
  /** Releases what the target holds for the session (a port-forward); the stack keeps running. */
  close?(): Promise<void>;
  /** Follows the services' logs, each line prefixed with its service, into `out`. */
  streamLogs(services: string[], out: NodeJS.WritableStream): LogStream;
}
