import type pg from 'pg';
import type { TimedAttempt } from '../audit/audit-writer.js';
import type { Events } from './events.service.js';

/** Failures on the IdP's side: they count in a run. A learner's access_denied does not. */
export const IDP_SIDE_ERRORS = ['idp_error', 'token_exchange_failed', 'invalid_id_token', 'missing_claims'];
/** This many of a connection's logins in a row failed on its IdP's side: connection.failing. */
export const FAILING_AFTER = 5;
/** How far back a run is counted. */
const RUN_LIMIT = 100;

/**
 * connection.failing and connection.recovered (contract v4), from what every replica writes to
 * login_attempts: after each batch of attempts is written (audit-writer.ts), the connections it
 * touched are looked at. A run counts app logins that succeeded or failed on the IdP's side, in
 * time order; anything else (access_denied, a learner's stale link) neither counts nor breaks
 * it, and test logins are not in login_attempts. connection_health decides, in the transaction
 * that stores the event, which replica emits it: each is emitted once.
 */
export class ConnectionHealthEvents {
  constructor(
    private readonly deps: {
      pool: pg.Pool;
      events: Pick<Events, 'emit'>;
      log: { warn(obj: object, msg: string): void };
    },
  ) {}

  /** After a batch of attempts was written; never throws. */
  async afterWrite(batch: readonly TimedAttempt[]): Promise<void> {
    const failed = new Set<string>();
    const succeeded = new Set<string>();
    for (const attempt of batch) {
      if (attempt.connectionId === null) continue;
      if (attempt.outcome === 'success') succeeded.add(attempt.connectionId);
      else if (attempt.error !== null && IDP_SIDE_ERRORS.includes(attempt.error)) failed.add(attempt.connectionId);
    }
    try {
      if (succeeded.size > 0) {
        const recovered = await this.#failingAmong([...succeeded]);
        if (recovered.length > 0) await this.#recovered(recovered);
      }
      for (const connection of failed) await this.#failing(connection);
    } catch (error) {
      this.deps.log.warn({ reason: (error as Error).message }, 'connection health events could not be checked');
    }
  }

  /**
   * Which of these connections are failing, whichever replica said so: one lookup by primary
   * key per batch of attempts with successes.
   */
  async #failingAmong(connections: string[]): Promise<string[]> {
    const { rows } = await this.deps.pool.query<{ connection: string }>(
      `SELECT connection_id AS connection FROM connection_health WHERE failing AND connection_id = ANY($1::text[])`,
      [connections],
    );
    return rows.map((row) => row.connection);
  }

  /** Connections that were failing and have just had a successful login. */
  async #recovered(connections: string[]): Promise<void> {
    await this.deps.events.emit(async (sql) => {
      const { rows } = await sql.query<{ connection: string; tenant: string | null }>(
        `UPDATE connection_health h SET failing = false
           WHERE connection_id = ANY($1::text[]) AND failing
             AND (SELECT outcome FROM login_attempts a
                   WHERE a.connection_id = h.connection_id
                     AND (a.outcome = 'success' OR a.error = ANY($2::text[]))
                   ORDER BY a.at DESC LIMIT 1) = 'success'
         RETURNING connection_id AS connection,
                   (SELECT t.slug FROM connections c JOIN tenants t ON t.id = c.tenant_id
                     WHERE c.id = h.connection_id) AS tenant`,
        [connections, IDP_SIDE_ERRORS],
      );
      return {
        result: undefined,
        events: rows.map((row) => ({
          type: 'connection.recovered' as const,
          data: { tenant: row.tenant, connection: row.connection },
        })),
      };
    });
  }

  /** A connection whose latest logins may be a run of FAILING_AFTER failures at its IdP. */
  async #failing(connection: string): Promise<void> {
    const { rows } = await this.deps.pool.query<{ outcome: string; error: string | null; at: Date }>(
      `SELECT outcome, error, at FROM login_attempts
        WHERE connection_id = $1 AND (outcome = 'success' OR error = ANY($2::text[]))
        ORDER BY at DESC LIMIT $3`,
      [connection, IDP_SIDE_ERRORS, RUN_LIMIT],
    );
    const end = rows.findIndex((row) => row.outcome === 'success');
    const run = end === -1 ? rows : rows.slice(0, end);
    if (run.length < FAILING_AFTER) return;
    const since = run[run.length - 1]?.at ?? new Date();
    await this.deps.events.emit(async (sql) => {
      const claimed = await sql.query(
        `INSERT INTO connection_health (connection_id, failing, since) VALUES ($1, true, $2)
         ON CONFLICT (connection_id) DO UPDATE SET failing = true, since = EXCLUDED.since
           WHERE NOT connection_health.failing
         RETURNING (SELECT t.slug FROM connections c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1) AS tenant`,
        [connection, since],
      );
      const tenant = (claimed.rows[0] as { tenant: string | null } | undefined)?.tenant;
      return {
        result: undefined,
        events:
          claimed.rows.length === 0
            ? []
            : [
                {
                  type: 'connection.failing' as const,
                  data: {
                    tenant: tenant ?? null,
                    connection,
                    failures: run.length,
                    since: since.toISOString(),
                    lastError: run[0]?.error ?? null,
                  },
                },
              ],
      };
    });
  }
}
