/**
 * RabbitMQ: definitions (vhosts, users, permissions, exchanges, queues, bindings, policies)
 * exported from the Compose broker and imported into the cluster's; messages still queued in
 * Compose are drained first (the Compose consumers keep running until cutover), and whatever
 * could not be drained is reported.
 */
import { waitFor } from '../exec/wait.js';
import type { Kubectl } from '../cluster/kubectl.js';
import type { Stack } from '../stack/stack.js';
import { execIn } from '../stack/stack.js';

export interface QueueState {
  name: string;
  vhost?: string;
  messages: number;
  consumers: number;
}

export interface BrokerTarget {
  kubectl: Kubectl;
  namespace: string;
  pod: string;
  container: string;
}

export interface BrokerResult {
  queues: number;
  exchanges: number;
  bindings: number;
  drained: QueueState[];
  leftBehind: QueueState[];
}

export function parseQueues(json: string): QueueState[] {
  const text = json.trim();
  if (!text) return [];
  return (JSON.parse(text) as QueueState[]).map((q) => ({ name: q.name, messages: Number(q.messages), consumers: Number(q.consumers) }));
}

async function composeQueues(stack: Stack, service: string): Promise<QueueState[]> {
  return parseQueues(await execIn(stack, service, ['rabbitmqctl', 'list_queues', '-q', '--formatter', 'json', 'name', 'messages', 'consumers']));
}

export async function moveBroker(stack: Stack, service: string, t: BrokerTarget, options: { drainMs?: number } = {}): Promise<BrokerResult> {
  // Drain: queued messages are consumed by the Compose consumers, which still run.
  let queues = await composeQueues(stack, service);
  const initially = queues.filter((q) => q.messages > 0);
  const draining = () => queues.filter((q) => q.messages > 0 && q.consumers > 0);
  if (draining().length) {
    // time up is no failure: what is still queued stays in Compose and is reported (leftBehind)
    await waitFor('the Compose consumers to drain the queues', async (ctl) => {
      queues = await composeQueues(stack, service);
      ctl.seen(draining().map((q) => `${q.name}=${q.messages}`).join(', '));
      return draining().length === 0;
    }, { timeoutMs: options.drainMs ?? 20_000, intervalMs: 250 }).catch((e: Error) => {
      if (!e.message.startsWith('timed out')) throw e;
    });
  }
  const leftBehind = queues.filter((q) => q.messages > 0);
  const definitions = await execIn(stack, service, ['rabbitmqctl', 'export_definitions', '-', '--format', 'json']);
  const parsed = JSON.parse(definitions) as { queues?: unknown[]; exchanges?: unknown[]; bindings?: unknown[] };
  await t.kubectl.run(['exec', '-i', '-n', t.namespace, t.pod, '-c', t.container, '--', 'rabbitmqctl', 'import_definitions', '--format', 'json'], {
    input: definitions,
    what: `import RabbitMQ definitions into ${t.pod}`,
  });
  return {
    queues: parsed.queues?.length ?? 0,
    exchanges: parsed.exchanges?.length ?? 0,
    bindings: parsed.bindings?.length ?? 0,
    drained: initially.filter((q) => !leftBehind.some((l) => l.name === q.name)),
    leftBehind,
  };
}
