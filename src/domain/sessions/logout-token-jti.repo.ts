import type { Sql } from '../events/event-log.repo.js';

/**
 * Logout tokens' `jti`s (SHA-256), per connection: one INSERT decides, on any replica and after
 * a restart, whether a token was seen before. Rows outlive the time their token could be
 * accepted and are then purged (housekeeping.ts).
 */
export class LogoutTokenJtiRepo {
  constructor(private readonly pool: { query: Sql['query'] }) {}

  /** Records the jti in the caller's transaction; false when it was already there (a replay). */
  async remember(sql: Sql, connectionId: string, jtiHash: string, until: Date): Promise<boolean> {
    const { rows } = await sql.query(
      `INSERT INTO logout_token_jtis (connection_id, jti_hash, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING 1 AS inserted`,
      [connectionId, jtiHash, until],
    );
    return rows.length === 1;
  }

  async purge(): Promise<number> {
    const { rows } = await this.pool.query(
      `WITH gone AS (DELETE FROM logout_token_jtis WHERE expires_at < now() RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [],
    );
    return (rows[0] as { n: number } | undefined)?.n ?? 0;
  }
}
