import type pg from 'pg';

/** What admitted a console session, kept with it and checked again on every request. */
export type ConsoleGrounds =
  | { method: 'token'; tokenHmac: string }
  | { method: 'sso'; tenant: string; email: string | null; groups: string[]; issuers: string[] };

export interface StoredConsoleSession {
  id: string;
  actor: string;
  grounds: ConsoleGrounds;
  lastSeenAt: Date;
}

interface Row {
  id: string;
  actor: string;
  method: string;
  token_hmac: string | null;
  tenant: string | null;
  email: string | null;
  groups: string[];
  issuers: string[];
  last_seen_at: Date;
}

/** A row whose grounds do not read as either kind admits nothing (undefined). */
function groundsOf(row: Row): ConsoleGrounds | undefined {
  if (row.method === 'token' && row.token_hmac !== null) return { method: 'token', tokenHmac: row.token_hmac };
  if (row.method === 'sso' && row.tenant !== null)
    return { method: 'sso', tenant: row.tenant, email: row.email, groups: row.groups, issuers: row.issuers };
  return undefined;
}

/**
 * The only SQL of console sessions (table console_sessions): one row per sign-in, read by its
 * id on every console request, revoked at sign-out, deleted once expired. Nothing else of the
 * console's state is stored.
 */
export class ConsoleSessionRepo {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  async create(session: { id: string; actor: string; grounds: ConsoleGrounds; expiresAt: Date }): Promise<void> {
    const { grounds } = session;
    await this.pool.query(
      `INSERT INTO console_sessions (id, actor, method, token_hmac, tenant, email, groups, issuers, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        session.id,
        session.actor,
        grounds.method,
        grounds.method === 'token' ? grounds.tokenHmac : null,
        grounds.method === 'sso' ? grounds.tenant : null,
        grounds.method === 'sso' ? grounds.email : null,
        grounds.method === 'sso' ? grounds.groups : [],
        grounds.method === 'sso' ? grounds.issuers : [],
        session.expiresAt,
      ],
    );
  }

  /** The session, unless it is unknown, revoked or expired. */
  async findLive(id: string): Promise<StoredConsoleSession | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT id, actor, method, token_hmac, tenant, email, groups, issuers, last_seen_at FROM console_sessions
       WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()`,
      [id],
    );
    const [row] = rows;
    const grounds = row && groundsOf(row);
    return row && grounds && { id: row.id, actor: row.actor, grounds, lastSeenAt: row.last_seen_at };
  }

  /** Notes a request (at most once a minute per session: a write per click would be waste). */
  async touch(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE console_sessions SET last_seen_at = now()
       WHERE id = $1 AND last_seen_at < now() - interval '1 minute'`,
      [id],
    );
  }

  /** Ends a session on every replica at once. */
  async revoke(id: string): Promise<void> {
    await this.pool.query(`UPDATE console_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  }

  /**
   * Deletes sessions past their absolute lifetime, revoked ones included: by then their cookie
   * opens nothing either. Returns how many.
   */
  async purge(): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM console_sessions WHERE expires_at < now()`);
    return rowCount ?? 0;
  }
}
