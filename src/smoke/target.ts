/**
 * Where declared smoke checks run: the Compose stack or the cluster. Both answer the same three
 * questions, so one declaration is run the same way on each: how the host reaches a service's
 * container port, how a command runs in a service's container, and whether every service is
 * ready.
 */
export interface Address {
  host: string;
  port: number;
  /** How it was reached ("published 127.0.0.1:8080", "entry", "port-forward"), for the results. */
  via: string;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface Readiness {
  service: string;
  ready: boolean;
  state: string;
}

export interface CheckTarget {
  /** compose or k8s: shown in the results, and the part of the smoke record it writes. */
  name: string;
  /** The demo's message record (the `messages` check). */
  markerFile?: string;
  address(service: string, port: number): Promise<Address>;
  exec(service: string, argv: string[]): Promise<ExecResult>;
  readiness(): Promise<Readiness[]>;
  /** Ends what the target started (port-forwards). */
  close(): Promise<void>;
}
