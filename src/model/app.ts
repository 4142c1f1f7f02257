/**
 * The app model: what a Compose file describes, in plain typed data. The loader
 * (src/compose) builds it; the transform (src/k8s) reads it. No YAML types past here.
 */

/** Where something came from in the user's files (1-based line and column). */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** Something the generator could not map exactly, and what it did instead. */
export interface Warning {
  message: string;
  pos?: SourcePos;
}

export interface App {
  /** Compose project name (top-level `name`, else the directory of the file). */
  name: string;
  /** The Compose file the model was loaded from (the first of `files`). */
  file: string;
  /** Every Compose file merged into the model, in order (`-f`, COMPOSE_FILE, or compose.yaml and its override). */
  files?: string[];
  services: Service[];
  volumes: NamedVolume[];
  networks: NetworkDef[];
  secrets: FileObject[];
  configs: FileObject[];
  warnings: Warning[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface PortMapping {
  /** Container port. */
  target: number;
  /** Host port; undefined when only the container port is given (a random host port in Compose). */
  published?: number;
  hostIp?: string;
  /** A host port range for one container port (`8000-8010:80`): Compose binds a free one of `published`..`publishedTo`. */
  publishedTo?: number;
  protocol: Protocol;
  pos: SourcePos;
}

export interface ExposedPort {
  port: number;
  protocol: Protocol;
  pos: SourcePos;
}

export type MountType = 'volume' | 'bind' | 'tmpfs';

export interface Mount {
  type: MountType;
  /** Named volume or host path (already resolved against the Compose file's directory); undefined for anonymous volumes and tmpfs. */
  source?: string;
  /** Source as written, for messages. */
  sourceText?: string;
  target: string;
  readOnly: boolean;
  /**
   * For bind mounts: what exists at the path when the model was built, for paths inside the
   * project; `host` for paths outside it (not looked at, so the output does not depend on the machine).
   */
  hostKind?: 'file' | 'directory' | 'missing' | 'other' | 'host';
  /** For tmpfs: size in bytes. */
  tmpfsSize?: number;
  pos: SourcePos;
}

/** An environment variable; its value is either literal or read from the environment at apply time. */
export interface EnvVar {
  name: string;
  /** Literal value, fully known at generate time. */
  value: string;
  /**
   * The value as written when it references variables (`${PASSWORD}`): such values are
   * resolved when the manifests are applied, from the env file, so generated output never
   * depends on whose machine generated it. Undefined for literals.
   */
  template?: string;
  /** The name says secret (PASSWORD, TOKEN, KEY, ...): the value never goes into manifests. */
  secret: boolean;
  /** `KEY` alone (or `KEY:` with no value): taken from the environment as it is; left unset when the environment has none (Compose). */
  passThrough?: boolean;
  pos: SourcePos;
}

export type HealthcheckKind = 'exec' | 'shell';

export interface Healthcheck {
  kind: HealthcheckKind;
  /** argv for exec (`CMD`), or [script] for shell (`CMD-SHELL` or a string). */
  command: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds?: number;
  startIntervalSeconds?: number;
  pos: SourcePos;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  service: string;
  condition: DependencyCondition;
  required: boolean;
  pos: SourcePos;
}

export interface ResourceSpec {
  /** CPUs as a decimal string (`0.5`). */
  cpus?: string;
  /** Bytes. */
  memoryBytes?: number;
}

/** `x-stackport: { autoscale: { min, max, cpu } }`: a HorizontalPodAutoscaler on CPU utilisation. */
export interface Autoscale {
  min: number;
  max: number;
  /** target average CPU utilisation, percent of the pods' CPU request (1..100) */
  cpu: number;
  pos: SourcePos;
}

/** `x-stackport: { dev: { sync } }`: files `make dev` copies into running containers (src/dev/sync-spec.ts). */
export interface DevSync {
  /** Path in the build context ('' for all of it); a directory ends with '/'. */
  src: string;
  /** Absolute path in the container. */
  dest: string;
  /** Made into what is copied first, in a container of Dockerfile stage `stage`. */
  compile?: DevCompile;
  /** Sent to the container's main process after a copy. */
  restart?: NodeJS.Signals;
  pos: SourcePos;
}

/**
 * `tsc`: the stage's own TypeScript, resident for the session (the project of that tsconfig.json,
 * its emit relative to the outDir); `command`: run for every update, the files of `output` copied.
 */
export type DevCompile = { stage: string; tsc: string } | { stage: string; command: string; output: string };

export interface DevSpec {
  sync: DevSync[];
  pos: SourcePos;
}

export interface UpdatePolicy {
  parallelism?: number;
  order: 'start-first' | 'stop-first';
}

export type RestartPolicy = 'no' | 'always' | 'on-failure' | 'unless-stopped';

export interface PlacementConstraint {
  key: string;
  operator: 'In' | 'NotIn';
  value: string;
  pos: SourcePos;
}

export interface ServiceSecretRef {
  source: string;
  target: string;
  mode?: number;
  pos: SourcePos;
}

export interface Service {
  name: string;
  pos: SourcePos;
  image: string;
  /** No `image:` in the file: `image` is the name Compose gives the image it builds (`<project>-<service>`). */
  defaultImageName?: boolean;
  /** The image is built by Compose (`build:`); the cluster gets it from the local image store. */
  built: boolean;
  /**
   * `context` and `dockerfile` as written (relative to the project directory and to the context);
   * `args` with their values interpolated, `KEY` alone taken from the environment (left out when unset).
   */
  build?: { context: string; dockerfile?: string; args: Record<string, string> };
  command?: string[];
  entrypoint?: string[];
  workingDir?: string;
  user?: string;
  hostname?: string;
  environment: EnvVar[];
  ports: PortMapping[];
  expose: ExposedPort[];
  mounts: Mount[];
  secrets: ServiceSecretRef[];
  configs: ServiceSecretRef[];
  healthcheck?: Healthcheck;
  /** healthcheck.disable or test NONE. */
  healthcheckDisabled: boolean;
  /** A `healthcheck` with no `test`: Compose keeps the image's HEALTHCHECK (its command is not in the file). */
  healthcheckFromImage?: boolean;
  dependsOn: Dependency[];
  mode: 'replicated' | 'global';
  replicas: number;
  limits: ResourceSpec;
  reservations: ResourceSpec;
  update?: UpdatePolicy;
  autoscale?: Autoscale;
  dev?: DevSpec;
  /** As written; undefined when the file does not say (Compose's default is `no`). */
  restart?: RestartPolicy;
  capAdd: string[];
  capDrop: string[];
  maxRestartAttempts?: number;
  placement: PlacementConstraint[];
  labels: Record<string, string>;
  /** deploy.labels: on the workload object. */
  deployLabels: Record<string, string>;
  networks: string[];
  profiles: string[];
  stopGracePeriodSeconds?: number;
  readOnlyRootFilesystem: boolean;
  privileged: boolean;
  tty: boolean;
  stdinOpen: boolean;
}

export interface NamedVolume {
  name: string;
  external: boolean;
  /** Requested size (`x-stackport-size` or driver_opts size), default applied by the transform. */
  size?: string;
  pos: SourcePos;
}

export interface NetworkDef {
  name: string;
  internal: boolean;
  external: boolean;
  pos: SourcePos;
}

/** A top-level `secrets:` or `configs:` entry. */
export interface FileObject {
  name: string;
  /** Absolute path of the file it reads, when file based. */
  file?: string;
  /** The path as written (relative), for messages and staging. */
  fileText?: string;
  /** Inline content (`configs.x.content`). */
  content?: string;
  /** Read from this environment variable at apply time (`environment:`). */
  environment?: string;
  external: boolean;
  pos: SourcePos;
}
