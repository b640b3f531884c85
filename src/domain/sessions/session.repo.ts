import type pg from 'pg';
import type { Sql } from '../events/event-log.repo.js';

/**
 * Sessions: a redeemed ticket's row is the app's session (ticket.repo.ts opens it), kept for
 * logout. The app ends it (RP-initiated logout), or its IdP does (back-channel logout).
 */
/** A redeemed session, for RP-initiated logout. */
export interface SessionRecord {
  sessionId: string;
  connectionId: string;
  idTokenEnc: string;
}

/** A session just ended, as its session.ended event tells it. */
export interface EndedSession {
  sessionId: string;
  appId: string;
  tenantSlug: string | null;
  connectionId: string;
  subject: string | null;
}

export class SessionRepo {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * RP-initiated logout: ends the app's session and returns what logout needs, once: the ID
   * token is cleared in the same statement, so a second logout with the same session finds
   * nothing. A session its IdP already ended (back-channel) answers `endedByIdp`.
   */
  async end(
    sql: Sql,
    sessionId: string,
    appId: string,
  ): Promise<(SessionRecord & EndedSession) | { endedByIdp: true } | undefined> {
    const { rows } = await sql.query<{
      connection_id: string;
      id_token_enc: string;
      subject: string | null;
      tenant_slug: string | null;
    }>(
      `UPDATE tickets t SET id_token_enc = NULL, ended_reason = 'rp_logout'
         FROM (SELECT hash, id_token_enc FROM tickets
                WHERE session_id = $1 AND app_id = $2 AND redeemed_at IS NOT NULL AND id_token_enc IS NOT NULL
                FOR UPDATE) old
        WHERE t.hash = old.hash
        RETURNING t.connection_id, old.id_token_enc, t.subject,
                  (SELECT slug FROM tenants WHERE id = t.tenant_id) AS tenant_slug`,
      [sessionId, appId],
    );
    const row = rows[0];
    if (row)
      return {
        sessionId,
        appId,
        connectionId: row.connection_id,
        idTokenEnc: row.id_token_enc,
        subject: row.subject,
        tenantSlug: row.tenant_slug,
      };
    const ended = await sql.query(
      `SELECT 1 AS ended FROM tickets WHERE session_id = $1 AND app_id = $2 AND ended_reason = 'idp_logout'`,
      [sessionId, appId],
    );
    return ended.rows.length > 0 ? { endedByIdp: true } : undefined;
  }

  /**
   * Back-channel logout: ends every live session of the connection whose ID token carried the
   * logout token's `sid` (and its `sub` too, when it has both), or its `sub` when it has only that.
   */
  async endByIdp(
    sql: Sql,
    connectionId: string,
    names: { sub: string | undefined; sid: string | undefined },
  ): Promise<EndedSession[]> {
    const { rows } = await sql.query<{
      session_id: string;
      app_id: string;
      subject: string | null;
      tenant_slug: string | null;
    }>(
      `UPDATE tickets t SET id_token_enc = NULL, ended_reason = 'idp_logout'
        WHERE connection_id = $1 AND redeemed_at IS NOT NULL AND id_token_enc IS NOT NULL
          AND ($2::text IS NULL OR sid = $2) AND ($3::text IS NULL OR idp_sub = $3)
        RETURNING session_id, app_id, subject, (SELECT slug FROM tenants WHERE id = t.tenant_id) AS tenant_slug`,
      [connectionId, names.sid ?? null, names.sub ?? null],
    );
    return rows.map((row) => ({
      sessionId: row.session_id,
      appId: row.app_id,
      tenantSlug: row.tenant_slug,
      connectionId,
      subject: row.subject,
    }));
  }
}
