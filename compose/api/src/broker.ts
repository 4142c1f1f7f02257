import amqp from 'amqplib';

type Handler = (id: number) => Promise<void>;

/**
 * One connection with a confirm channel for publishing and a channel for the consumer.
 * Reconnects with backoff when the broker goes away; `ok` reports the current state.
 */
export class Broker {
  private conn?: amqp.ChannelModel;
  private pub?: amqp.ConfirmChannel;
  private closing = false;
  private consumerTag?: string;
  private sub?: amqp.Channel;
  lastError = '';

  constructor(
    private readonly url: string,
    private readonly queue: string,
    private readonly onMessage: Handler,
    private readonly log: (line: string) => void,
  ) {}

  get ok(): boolean {
    return Boolean(this.conn && this.pub && this.sub);
  }

  async start(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      try {
        await this.connect();
        return;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log(`broker: connect failed (${this.lastError}), retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.url);
    conn.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    conn.on('close', () => {
      this.conn = this.pub = this.sub = undefined;
      if (!this.closing) {
        this.log('broker: connection closed, reconnecting');
        void this.start();
      }
    });
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue(this.queue, { durable: true });
    const sub = await conn.createChannel();
    await sub.prefetch(20);
    const { consumerTag } = await sub.consume(this.queue, (msg) => {
      if (!msg) return;
      const id = Number(msg.content.toString());
      this.onMessage(id).then(
        () => sub.ack(msg),
        (err: Error) => {
          this.log(`consumer: message ${id} failed (${err.message}), requeued`);
          setTimeout(() => sub.nack(msg, false, true), 1000);
        },
      );
    });
    this.conn = conn;
    this.pub = pub;
    this.sub = sub;
    this.consumerTag = consumerTag;
    this.lastError = '';
    this.log('broker: connected');
  }

  async publish(id: number): Promise<void> {
    const pub = this.pub;
    if (!pub) throw new Error(`broker not connected${this.lastError ? `: ${this.lastError}` : ''}`);
    pub.sendToQueue(this.queue, Buffer.from(String(id)), { persistent: true, contentType: 'text/plain' });
    await pub.waitForConfirms();
  }

  /** Stops consuming (in-flight messages finish), then closes the connection. */
  async stop(): Promise<void> {
    this.closing = true;
    try {
      if (this.sub && this.consumerTag) await this.sub.cancel(this.consumerTag);
      await this.conn?.close();
    } catch {
      /* already closed */
    }
  }
}
