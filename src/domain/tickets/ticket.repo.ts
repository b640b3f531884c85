import type pg from 'pg';
import { ClaimBatch, type Claim } from './claim-batch.js';

/** What a logout token names a session by (back-channel logout), and the app's subject. */
export interface SessionNames {
  /** The ID token's `sub`. */
  idpSub: string | null;
  /** The ID token's `sid`, when the IdP sent one. */
  sid: string | null;
  /** The redeem answer's subject, for the session.ended event. */
  subject: string | null;
}

export interface TicketRecord {
  hash: string;
  transactionId: string;
  sessionId: string;
  appId: string;
  tenantId: string;
  connectionId: string;
  identity: Record<string, unknown>;
  /** The session's ID token, sealed; kept for id_token_hint at logout. */
  idTokenEnc: string;
  ttlSeconds: number;
  names: SessionNames;
}

/**
 * Tickets and sessions. A self-contained ticket is written once, when it is redeemed (claim);
 * a stored one (too large for a URL) once to mint and once to redeem.
 * Every statement goes by primary key or unique index. Plain SQL through the pool Prisma also
 * uses (the table is Prisma's), as unnamed statements: named prepared statements break behind
 * PgBouncer in transaction mode (1.18 keeps none; test/integration/pgbouncer.test.ts).
 */
export class TicketRepo {
  readonly #claims: ClaimBatch;

  constructor(
    private readonly pool: pg.Pool,
    metrics: ConstructorParameters<typeof ClaimBatch>[1],
  ) {
    this.#claims = new ClaimBatch(pool, metrics);
  }

  /**
   * Inserts the ticket unless its login transaction already minted one (a replayed callback);
   * returns false in that case.
   */
  async insert(ticket: TicketRecord): Promise<boolean> {
    const result = await this.pool.query({
      text: `INSERT INTO tickets (hash, transaction_id, session_id, app_id, tenant_id, connection_id,
                                  identity, id_token_enc, expires_at, idp_sub, sid, subject)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9), $10, $11, $12)
             ON CONFLICT (transaction_id) DO NOTHING`,
      values: [
        ticket.hash,
        ticket.transactionId,
        ticket.sessionId,
        ticket.appId,
        ticket.tenantId,
        ticket.connectionId,
        ticket.identity,
        ticket.idTokenEnc,
        ticket.ttlSeconds,
        ticket.names.idpSub,
        ticket.names.sid,
        ticket.names.subject,
      ],
    });
    return result.rowCount === 1;
  }

  /**
   * Redeems a self-contained ticket (sealed-ticket.ts) by claiming its key: one row, which
   * also opens the session for logout. Of any number of concurrent claims of one key, across
   * any number of broker replicas, exactly one inserts the row; false for the others.
   * Concurrent claims share one INSERT and one commit (claim-batch.ts).
   */
  claim(claim: Claim): Promise<boolean> {
    return this.#claims.claim(claim);
  }

  /**
   * A retry (contract v3): the ticket's first successful redemption was by this app, with this
   * Idempotency-Key (SHA-256), less than 60 s ago. Its identity and session, when so.
   */
  async repeat(
    hash: string,
    appId: string,
    idempotencyKey: string,
  ): Promise<{ identity: Record<string, unknown>; sessionId: string } | undefined> {
    const result = await this.pool.query<{ identity: Record<string, unknown>; session_id: string }>({
      text: `SELECT identity, session_id FROM tickets
             WHERE hash = $1 AND app_id = $2 AND idempotency_key = $3 AND redeemed_at > now() - interval '60 seconds'`,
      values: [hash, appId, idempotencyKey],
    });
    const row = result.rows[0];
    return row ? { identity: row.identity, sessionId: row.session_id } : undefined;
  }

  /**
   * Consume-once of a stored ticket as one conditional update: of any number of concurrent redemptions, across
   * any number of broker replicas, exactly one sees the row.
   */
  async redeem(
    hash: string,
    appId: string,
    idempotencyKey: string | null,
  ): Promise<{ identity: Record<string, unknown>; sessionId: string } | undefined> {
    const result = await this.pool.query<{ identity: Record<string, unknown>; session_id: string }>({
      text: `UPDATE tickets SET redeemed_at = now(), idempotency_key = $3
             WHERE hash = $1 AND app_id = $2 AND redeemed_at IS NULL AND expires_at > now()
             RETURNING identity, session_id`,
      values: [hash, appId, idempotencyKey],
    });
    const row = result.rows[0];
    return row ? { identity: row.identity, sessionId: row.session_id } : undefined;
  }

  /**
   * Deletes the stored tickets that expired unredeemed: nobody can redeem them any more, and
   * their identity (as large as oidc/identity-size.ts allows) is what scripted logins make the
   * database hold. Run every minute (housekeeping.ts), so such a row lives at most
   * TICKET_TTL_SECONDS and a minute; the partial index on unredeemed tickets keeps the query
   * to those rows. A replayed callback of a purged ticket's login (which needs the login's
   * transaction cookie and an IdP that accepts its code twice) could mint again, but that
   * login's first ticket was never redeemed: still at most one redemption per login.
   */
  async purgeUnredeemed(): Promise<number> {
    const tickets = await this.pool.query(`DELETE FROM tickets WHERE redeemed_at IS NULL AND expires_at < now()`);
    return tickets.rowCount ?? 0;
  }

  /**
   * Deletes tickets past their use: unredeemed ones once expired (purgeUnredeemed), redeemed
   * ones — the app's session, kept for logout — a day past expiry once logged out or once the
   * retention ends.
   */
  async purge(retentionDays: number): Promise<number> {
    const tickets = await this.pool.query(
      `DELETE FROM tickets WHERE (redeemed_at IS NULL AND expires_at < now())
          OR (expires_at < now() - interval '1 day'
              AND (id_token_enc IS NULL OR created_at < now() - make_interval(days => $1)))`,
      [retentionDays],
    );
    return tickets.rowCount ?? 0;
  }
}
