import { Pool } from 'pg';

export interface Message {
  id: number;
  text: string;
  createdAt: string;
  deliveredAt: string | null;
}

export class Store {
  readonly pool = new Pool({ max: 10, connectionTimeoutMillis: 3000 });

  async migrate(): Promise<void> {
    await this.pool.query(`CREATE TABLE IF NOT EXISTS messages (
      id BIGSERIAL PRIMARY KEY,
      text TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      delivered_at TIMESTAMPTZ
    )`);
    // One row naming this database's data set: made once, copied with the data by a dump and
    // restore, new when the volume is new. The smoke suite's record of earlier messages is
    // kept against it, so a wiped volume is told apart from lost messages.
    await this.pool.query(`CREATE TABLE IF NOT EXISTS dataset (
      one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
      id TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    await this.pool.query('INSERT INTO dataset (id) VALUES (gen_random_uuid()::text) ON CONFLICT DO NOTHING');
  }

  async dataset(): Promise<string | undefined> {
    const r = await this.pool.query('SELECT id FROM dataset');
    return r.rows[0]?.id;
  }

  async ping(): Promise<number> {
    const started = Date.now();
    await this.pool.query('SELECT 1');
    return Date.now() - started;
  }

  async insert(text: string): Promise<Message> {
    const r = await this.pool.query('INSERT INTO messages (text) VALUES ($1) RETURNING id, text, created_at, delivered_at', [text]);
    return toMessage(r.rows[0]);
  }

  async markDelivered(id: number): Promise<void> {
    await this.pool.query('UPDATE messages SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL', [id]);
  }

  async get(id: number): Promise<Message | undefined> {
    const r = await this.pool.query('SELECT id, text, created_at, delivered_at FROM messages WHERE id = $1', [id]);
    return r.rows[0] ? toMessage(r.rows[0]) : undefined;
  }

  async stats(): Promise<{ total: number; delivered: number }> {
    const r = await this.pool.query('SELECT count(*)::int AS total, count(delivered_at)::int AS delivered FROM messages');
    return { total: r.rows[0].total, delivered: r.rows[0].delivered };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function toMessage(row: { id: string; text: string; created_at: Date; delivered_at: Date | null }): Message {
  return {
    id: Number(row.id),
    text: row.text,
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at ? row.delivered_at.toISOString() : null,
  };
}
