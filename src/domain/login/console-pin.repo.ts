import type pg from 'pg';

/** The issuers console sign-ins may come from, and since when. Empty: nothing is pinned. */
export interface StoredPin {
  issuers: string[];
  pinnedAt: Date;
}

/**
 * The only SQL of the console's pin (table console_pins): one row, for the current
 * CONSOLE_TENANT, written and read by one statement at start-up.
 */
export class ConsolePinRepo {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  /**
   * `tenantSlug`'s pin, after one statement that: forgets the pin of any other slug (so a
   * changed CONSOLE_TENANT pins afresh); pins `issuer` (CONSOLE_ISSUER) when given, replacing
   * what was stored; otherwise keeps the stored pin, or — when there is none yet, or it is
   * empty — pins the issuers of the tenant's enabled connections now. Replicas starting
   * together agree: the row's primary key serialises them, and the first one's pin stands.
   */
  async pin(tenantSlug: string, issuer: string | undefined): Promise<StoredPin> {
    const { rows } = await this.pool.query<{ issuers: string[]; pinned_at: Date }>(
      `WITH forgotten AS (DELETE FROM console_pins WHERE tenant_slug <> $1),
       current AS (
         SELECT coalesce($2::text[], array_agg(DISTINCT c.issuer ORDER BY c.issuer), '{}') AS issuers
         FROM connections c JOIN tenants t ON t.id = c.tenant_id
         WHERE t.slug = $1 AND c.enabled
       )
       INSERT INTO console_pins AS p (tenant_slug, issuers) SELECT $1, issuers FROM current
       ON CONFLICT (tenant_slug) DO UPDATE SET
         issuers = CASE WHEN $2::text[] IS NOT NULL OR cardinality(p.issuers) = 0
                        THEN EXCLUDED.issuers ELSE p.issuers END,
         pinned_at = CASE WHEN ($2::text[] IS NOT NULL OR cardinality(p.issuers) = 0)
                               AND p.issuers IS DISTINCT FROM EXCLUDED.issuers
                          THEN now() ELSE p.pinned_at END
       RETURNING issuers, pinned_at`,
      [tenantSlug, issuer === undefined ? null : [issuer]],
    );
    const [row] = rows;
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return { issuers: row.issuers, pinnedAt: row.pinned_at };
  }
}
