import type pg from 'pg';

/**
 * The only SQL of test-login links: one-time links stored as the SHA-256 of their token, with
 * the connection they test and an expiry.
 */
export class TestLoginRepo {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  /** Stores a link; returns when it expires. */
  async create(hash: string, connectionId: string, version: number, ttlSeconds: number): Promise<Date> {
    const { rows } = await this.pool.query<{ expires_at: Date }>(
      `INSERT INTO test_logins (hash, connection_id, version, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
      [hash, connectionId, version, ttlSeconds],
    );
    const [row] = rows;
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return row.expires_at;
  }

  /**
   * Uses a link up, once, within its lifetime (one conditional UPDATE); the connection and
   * version it tests (null: a link from before versions, which tests the active settings).
   */
  async consume(hash: string): Promise<{ connectionId: string; version: number | null } | undefined> {
    const { rows } = await this.pool.query<{ connection_id: string; version: number | null }>(
      `UPDATE test_logins SET used_at = now()
       WHERE hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING connection_id, version`,
      [hash],
    );
    const [row] = rows;
    return row && { connectionId: row.connection_id, version: row.version };
  }
}
