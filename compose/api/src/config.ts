/** Configuration, from the environment only (12-factor). */
export interface Config {
  port: number;
  version: string;
  queue: string;
  amqpUrl: string;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  drainMs: number;
  /** Extra delay before the server stops accepting (lets load balancers notice). */
  preStopMs: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // PostgreSQL settings are read by `pg` itself: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
  required(env, 'PGHOST');
  required(env, 'PGPASSWORD');
  const user = encodeURIComponent(required(env, 'RABBITMQ_USER'));
  const pass = encodeURIComponent(required(env, 'RABBITMQ_PASSWORD'));
  const host = env.RABBITMQ_HOST ?? 'broker';
  const port = env.RABBITMQ_PORT ?? '5672';
  const vhost = encodeURIComponent(env.RABBITMQ_VHOST ?? '/');
  return {
    port: Number(env.PORT ?? 3000),
    version: env.APP_VERSION ?? '1',
    queue: env.QUEUE ?? 'messages',
    amqpUrl: `amqp://${user}:${pass}@${host}:${port}/${vhost}`,
    drainMs: Number(env.DRAIN_MS ?? 10_000),
    preStopMs: Number(env.PRESTOP_MS ?? 0),
  };
}
