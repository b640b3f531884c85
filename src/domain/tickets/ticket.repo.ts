import type pg from 'pg';

export interface TicketRecord {
  hash: string;
  transactionId: string;
  sessionId: string;
  appId: string;
  tenantId: string;
  connectionId: string;
  identity: Record<string, unknown>;
  ttlSeconds: number;
}

/**
 * Tickets on the hot path: one statement to mint, one to redeem, both by unique index and on
 * the database's clock. Plain SQL through the pool Prisma also uses (the table is Prisma's).
 */
export class TicketRepo {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Inserts the ticket unless its login transaction already minted one (a replayed callback);
   * returns false in that case.
   */
  async insert(ticket: TicketRecord): Promise<boolean> {
    const result = await this.pool.query({
      name: 'ticket_insert',
      text: `INSERT INTO tickets (hash, transaction_id, session_id, app_id, tenant_id, connection_id, identity, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))
             ON CONFLICT (transaction_id) DO NOTHING`,
      values: [
        ticket.hash,
        ticket.transactionId,
        ticket.sessionId,
        ticket.appId,
        ticket.tenantId,
        ticket.connectionId,
        ticket.identity,
        ticket.ttlSeconds,
      ],
    });
    return result.rowCount === 1;
  }

  /**
   * Consume-once as one conditional update: of any number of concurrent redemptions, across
   * any number of broker replicas, exactly one sees the row.
   */
  async redeem(hash: string, appId: string): Promise<{ identity: Record<string, unknown>; sessionId: string } | undefined> {
    const result = await this.pool.query<{ identity: Record<string, unknown>; session_id: string }>({
      name: 'ticket_redeem',
      text: `UPDATE tickets SET redeemed_at = now()
             WHERE hash = $1 AND app_id = $2 AND redeemed_at IS NULL AND expires_at > now()
             RETURNING identity, session_id`,
      values: [hash, appId],
    });
    const row = result.rows[0];
    return row ? { identity: row.identity, sessionId: row.session_id } : undefined;
  }
}
