import type pg from 'pg';
import { randomToken } from '../../crypto/tokens.js';
import { inTransaction } from '../../db/transaction.js';

export const EVENT_TYPES = [
  'session.ended',
  'connection.activated',
  'connection.failing',
  'connection.recovered',
  'credential.expiring',
  'domain.verified',
  'domain.unverified',
  'webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Events about the broker's configuration: only endpoints without an app receive them. */
export const OPERATOR_EVENT_TYPES: readonly EventType[] = [
  'connection.activated',
  'connection.failing',
  'connection.recovered',
  'credential.expiring',
  'domain.verified',
  'domain.unverified',
];

export interface NewEvent {
  type: EventType;
  data: Record<string, unknown>;
  /** session.ended: the session's app. */
  appId?: string | undefined;
  /** webhook.test: the one endpoint that asked for it. */
  endpointId?: string | undefined;
}

export interface StoredEvent extends Required<Pick<NewEvent, 'type' | 'data'>> {
  seq: string;
  id: string;
  appId: string | null;
  endpointId: string | null;
  at: Date;
}

/** What runs SQL inside the caller's transaction: a pg client, or a Prisma transaction (sql.ts). */
export interface Sql {
  query<R extends object = Record<string, unknown>>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

/** One advisory lock key for appending events (any constant; this is "events" in ASCII). */
const APPEND_LOCK = 0x6576656e7473;

interface EventRow {
  seq: string;
  id: string;
  type: EventType;
  app_id: string | null;
  endpoint_id: string | null;
  data: Record<string, unknown>;
  at: Date;
}

const toEvent = (row: EventRow): StoredEvent => ({
  seq: String(row.seq),
  id: row.id,
  type: row.type,
  appId: row.app_id,
  endpointId: row.endpoint_id,
  data: row.data,
  at: row.at,
});

/**
 * The events table. Appending takes a transaction-scoped advisory lock first, so that events
 * commit in `seq` order: a reader paging by `seq` never skips an event that commits after it
 * read a later one. Events are few (logouts, activations, failures), so the lock is cheap.
 */
export class EventLogRepo {
  constructor(private readonly pool: pg.Pool) {}

  /** Appends within the caller's transaction (`sql`), which must commit for them to exist. */
  async append(sql: Sql, events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    await sql.query('SELECT 1 AS locked FROM pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    const { rows } = await sql.query<EventRow>(
      `INSERT INTO events (id, type, app_id, endpoint_id, data)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
       RETURNING seq::text AS seq, id, type, app_id, endpoint_id, data, at`,
      [
        events.map(() => `evt_${randomToken(16)}`),
        events.map((e) => e.type),
        events.map((e) => e.appId ?? null),
        events.map((e) => e.endpointId ?? null),
        events.map((e) => JSON.stringify(e.data)),
      ],
    );
    return rows.map(toEvent);
  }

  /** Runs `work` in one transaction on a client of the pool (for callers without their own). */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  /** Oldest first after the cursor (`seq`), optionally of one type. */
  async list(options: { afterSeq: string; limit: number; type?: EventType | undefined }): Promise<StoredEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `SELECT seq::text AS seq, id, type, app_id, endpoint_id, data, at FROM events
        WHERE seq > $1::bigint AND ($2::text IS NULL OR type = $2)
        ORDER BY seq LIMIT $3`,
      [options.afterSeq, options.type ?? null, options.limit],
    );
    return rows.map(toEvent);
  }

  async findById(id: string): Promise<StoredEvent | undefined> {
    const { rows } = await this.pool.query<EventRow>(
      `SELECT seq::text AS seq, id, type, app_id, endpoint_id, data, at FROM events WHERE id = $1`,
      [id],
    );
    return rows[0] && toEvent(rows[0]);
  }

  /** Events (and their delivery attempts) are kept 30 days. */
  async purge(days = 30): Promise<number> {
    const events = await this.pool.query(`DELETE FROM events WHERE at < now() - make_interval(days => $1)`, [days]);
    await this.pool.query(`DELETE FROM webhook_deliveries WHERE at < now() - make_interval(days => $1)`, [days]);
    return events.rowCount ?? 0;
  }
}
