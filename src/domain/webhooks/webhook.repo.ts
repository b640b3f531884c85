import type pg from 'pg';
import type { Sql, StoredEvent } from '../events/event-log.repo.js';

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  appId: string | null;
  description: string | null;
  secretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  attempt: number;
  at: Date;
  status: number | null;
  error: string | null;
  durationMs: number;
  nextAttemptAt: Date | null;
}

const ENDPOINT_COLUMNS = `id, url, events, app_id AS "appId", description, secret_enc AS "secretEnc",
  previous_secret_enc AS "previousSecretEnc", previous_secret_until AS "previousSecretUntil", enabled,
  disabled_reason AS "disabledReason", failing_since AS "failingSince", created_at AS "createdAt",
  updated_at AS "updatedAt"`;

/** Webhook endpoints and their delivery attempts (the jobs themselves are pg-boss's). */
export class WebhookRepo {
  constructor(private readonly pool: pg.Pool) {}

  async create(endpoint: Pick<WebhookEndpoint, 'id' | 'url' | 'events' | 'appId' | 'description' | 'secretEnc'>) {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `INSERT INTO webhook_endpoints (id, url, events, app_id, description, secret_enc)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
      [endpoint.id, endpoint.url, endpoint.events, endpoint.appId, endpoint.description, endpoint.secretEnc],
    );
    return rows[0] as WebhookEndpoint;
  }

  async list(): Promise<WebhookEndpoint[]> {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id`,
    );
    return rows;
  }

  async findById(id: string): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Writes the given fields; re-enabling clears the reason and the failure run. */
  async update(
    id: string,
    fields: Partial<Pick<WebhookEndpoint, 'url' | 'events' | 'description' | 'enabled'>>,
  ): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `UPDATE webhook_endpoints SET
         url = COALESCE($2, url), events = COALESCE($3, events),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         updated_at = now()
       WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
      [
        id,
        fields.url ?? null,
        fields.events ?? null,
        'description' in fields,
        fields.description ?? null,
        fields.enabled ?? null,
      ],
    );
    return rows[0];
  }

  /** The new secret signs from now on; the old one too, until `until`. */
  async rotateSecret(id: string, secretEnc: string, previousEnc: string, until: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE webhook_endpoints SET secret_enc = $2, previous_secret_enc = $3, previous_secret_until = $4,
              updated_at = now()
        WHERE id = $1`,
      [id, secretEnc, previousEnc, until],
    );
    return rowCount === 1;
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM webhook_endpoints WHERE id = $1`, [id]);
    return rowCount === 1;
  }

  /**
   * Which enabled endpoints receive each event (`receives` says the same of one): subscribed
   * to its type; `session.ended` only at endpoints without an app or of its app; operator
   * events only at endpoints without an app; `webhook.test` only at the endpoint that asked.
   */
  async recipients(sql: Sql, events: readonly StoredEvent[]): Promise<{ endpoint: string; event: string }[]> {
    const { rows } = await sql.query<{ endpoint: string; event: string }>(
      `SELECT w.id AS endpoint, e.id AS event
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS e(id, type, app_id, endpoint_id)
         JOIN webhook_endpoints w ON w.enabled AND (
           (e.type = 'webhook.test' AND w.id = e.endpoint_id)
           OR (e.type <> 'webhook.test' AND e.type = ANY (w.events)
               AND (w.app_id IS NULL OR (e.app_id IS NOT NULL AND w.app_id = e.app_id))))`,
      [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.appId), events.map((e) => e.endpointId)],
    );
    return rows;
  }

  /** Whether this endpoint receives the event (as `recipients` decides, enabled or not). */
  async receives(endpoint: WebhookEndpoint, event: StoredEvent): Promise<boolean> {
    if (event.type === 'webhook.test') return event.endpointId === endpoint.id;
    if (!endpoint.events.includes(event.type)) return false;
    return endpoint.appId === null || (event.appId !== null && endpoint.appId === event.appId);
  }

  async recordAttempt(sql: Sql, attempt: DeliveryAttempt & { id: string; endpointId: string }): Promise<void> {
    await sql.query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, attempt, at, status, error,
                                       duration_ms, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        attempt.id,
        attempt.endpointId,
        attempt.eventId,
        attempt.eventType,
        attempt.attempt,
        attempt.at,
        attempt.status,
        attempt.error,
        attempt.durationMs,
        attempt.nextAttemptAt,
      ],
    );
  }

  /** A delivery succeeded: the endpoint's run of failures is over. */
  async succeeded(sql: Sql, endpointId: string): Promise<void> {
    await sql.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [
      endpointId,
    ]);
  }

  /**
   * An attempt failed: starts the endpoint's run of failures, or disables the endpoint when
   * the run has lasted `disableAfterMs`. True when this attempt disabled it.
   */
  async failed(sql: Sql, endpointId: string, at: Date, disableAfterMs: number): Promise<boolean> {
    const { rows } = await sql.query<{ disabled: boolean }>(
      `WITH cutoff AS (SELECT $2::timestamptz AS at,
                              $2::timestamptz - make_interval(secs => $3::int / 1000.0) AS limit_at)
       UPDATE webhook_endpoints SET
         failing_since = COALESCE(failing_since, cutoff.at),
         enabled = CASE WHEN failing_since <= cutoff.limit_at THEN false ELSE enabled END,
         disabled_reason = CASE WHEN failing_since <= cutoff.limit_at
           THEN 'Every delivery failed for 3 days, since ' || to_char(failing_since AT TIME ZONE 'UTC',
                'YYYY-MM-DD HH24:MI "UTC"') || '; enable it again once it answers.'
           ELSE disabled_reason END
         FROM cutoff
       WHERE id = $1
       RETURNING (NOT enabled AND failing_since <= cutoff.limit_at) AS disabled`,
      [endpointId, at, disableAfterMs],
    );
    return rows[0]?.disabled ?? false;
  }

  /** The endpoint's latest attempts, newest first. */
  async deliveries(endpointId: string, limit: number): Promise<DeliveryAttempt[]> {
    const { rows } = await this.pool.query<DeliveryAttempt>(
      `SELECT event_id AS "eventId", event_type AS "eventType", attempt, at, status, error,
              duration_ms AS "durationMs", next_attempt_at AS "nextAttemptAt"
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY at DESC, attempt DESC LIMIT $2`,
      [endpointId, limit],
    );
    return rows;
  }

  /** How many attempts an event has had at an endpoint (0: never sent there). */
  async attempts(endpointId: string, eventId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT coalesce(max(attempt), 0)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2`,
      [endpointId, eventId],
    );
    return rows[0]?.n ?? 0;
  }
}
