import type pg from 'pg';

/**
 * The only SQL of test-login links: one-time links stored as the SHA-256 of their token, with
 * the connection they test and an expiry.
 */
export class TestLoginRepo {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  /** Stores a link; returns when it expires. */
  async create(hash: string, connectionId: string, ttlSeconds: number): Promise<Date> {
    const { rows } = await this.pool.query<{ expires_at: Date }>(
      `INSERT INTO test_logins (hash, connection_id, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at`,
      [hash, connectionId, ttlSeconds],
    );
    const [row] = rows;
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return row.expires_at;
  }

  /** Uses a link up, once, within its lifetime (one conditional UPDATE); the connection it tests, or undefined. */
  async consume(hash: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ connection_id: string }>(
      `UPDATE test_logins SET used_at = now()
       WHERE hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING connection_id`,
      [hash],
    );
    return rows[0]?.connection_id;
  }
}
