import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { isUniqueViolation } from '../../db/prisma-errors.js';
import { inTransaction } from '../../db/transaction.js';
import type { Sql } from '../events/event-log.repo.js';

export interface DomainClaim {
  tenantId: string;
  domain: string;
  verified: boolean;
  verifiedAt: Date | null;
  /** dns, force (an admin) or migration (there before v4); null while unverified. */
  verifiedBy: string | null;
  token: string;
  checkedAt: Date | null;
  failedChecks: number;
  createdAt: Date;
}

/** The columns of a claim, of table alias `t` when given. */
const columns = (t = '') =>
  `${t}tenant_id AS "tenantId", ${t}domain, ${t}verified, ${t}verified_at AS "verifiedAt",
   ${t}verified_by AS "verifiedBy", ${t}token, ${t}checked_at AS "checkedAt", ${t}failed_checks AS "failedChecks",
   ${t}created_at AS "createdAt"`;
const COLUMNS = columns();

/** The most domains one tenant may hold (as a tenant write's `domains` list allows). */
export const MAX_CLAIMS = 100;

/** A claim's own token: 128 bits from the CSPRNG, hex. */
export const newToken = () => randomBytes(16).toString('hex');

/**
 * Tenants' domain claims (tenant_domains). At most one tenant holds a domain verified (a
 * unique index on domain WHERE verified, and verifications of one domain take turns): of two
 * tenants verifying one domain at once, one commits and the other finds its claim dropped, so
 * the race ends with one owner.
 */
export class DomainRepo {
  constructor(private readonly pool: pg.Pool) {}

  async list(tenantId: string): Promise<DomainClaim[]> {
    const { rows } = await this.pool.query<DomainClaim>(
      `SELECT ${COLUMNS} FROM tenant_domains WHERE tenant_id = $1 ORDER BY domain`,
      [tenantId],
    );
    return rows;
  }

  async find(tenantId: string, domain: string): Promise<DomainClaim | undefined> {
    const { rows } = await this.pool.query<DomainClaim>(
      `SELECT ${COLUMNS} FROM tenant_domains WHERE tenant_id = $1 AND domain = $2`,
      [tenantId, domain],
    );
    return rows[0];
  }

  /** The domains among `domains` that another tenant than `tenantId` has verified. */
  async verifiedElsewhere(domains: readonly string[], tenantId: string | null): Promise<string[]> {
    if (domains.length === 0) return [];
    const { rows } = await this.pool.query<{ domain: string }>(
      `SELECT domain FROM tenant_domains WHERE verified AND domain = ANY($1::text[])
         AND ($2::text IS NULL OR tenant_id <> $2)`,
      [domains, tenantId],
    );
    return rows.map((row) => row.domain);
  }

  /**
   * A new, unverified claim; undefined when the tenant holds it already, another tenant has
   * verified it, or the tenant holds MAX_CLAIMS domains (the caller tells which).
   */
  async claim(tenantId: string, domain: string): Promise<DomainClaim | undefined> {
    const { rows } = await this.pool.query<DomainClaim>(
      `INSERT INTO tenant_domains (tenant_id, domain, token)
       SELECT $1, $2, $3
        WHERE NOT EXISTS (SELECT 1 FROM tenant_domains WHERE domain = $2 AND verified)
          AND (SELECT count(*) FROM tenant_domains WHERE tenant_id = $1) < $4
       ON CONFLICT (tenant_id, domain) DO NOTHING RETURNING ${COLUMNS}`,
      [tenantId, domain, newToken(), MAX_CLAIMS],
    );
    return rows[0];
  }

  async count(tenantId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tenant_domains WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Marks the claim verified and drops every other tenant's claim of the domain, in one
   * transaction. 'taken' when another tenant verified it first (now or before).
   */
  async verify(
    tenantId: string,
    domain: string,
    by: 'dns' | 'force',
    /** Runs in the transaction before it commits (the domain.verified event). */
    within: (sql: Sql) => Promise<unknown> = async () => {},
  ): Promise<{ claim: DomainClaim; dropped: string[] } | 'taken' | undefined> {
    try {
      return await inTransaction(this.pool, async (sql) => {
        // One verification of a domain at a time: two would each lock their own claim, then
        // wait on the other's (the unique index, the delete) — a deadlock. The second now finds
        // its claim dropped and answers 'taken'.
        await sql.query('SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext($1))', [`domain:${domain}`]);
        const { rows } = await sql.query<DomainClaim>(
          `UPDATE tenant_domains SET verified = true, verified_at = now(), verified_by = $3, checked_at = now(),
                  failed_checks = 0
            WHERE tenant_id = $1 AND domain = $2 RETURNING ${COLUMNS}`,
          [tenantId, domain, by],
        );
        const claim = rows[0];
        if (!claim) {
          // No claim: never made, or dropped because another tenant verified the domain first.
          const owner = await sql.query(`SELECT 1 AS verified FROM tenant_domains WHERE domain = $1 AND verified`, [
            domain,
          ]);
          return owner.rows.length > 0 ? ('taken' as const) : undefined;
        }
        const dropped = await sql.query<{ tenant_id: string }>(
          `DELETE FROM tenant_domains WHERE domain = $1 AND tenant_id <> $2 RETURNING tenant_id`,
          [domain, tenantId],
        );
        await within(sql);
        return { claim, dropped: dropped.rows.map((row) => row.tenant_id) };
      });
    } catch (error) {
      if (isUniqueViolation(error)) return 'taken';
      throw error;
    }
  }

  async remove(tenantId: string, domain: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM tenant_domains WHERE tenant_id = $1 AND domain = $2`, [
      tenantId,
      domain,
    ]);
    return rowCount === 1;
  }

  /**
   * Takes up to `limit` domains verified by DNS whose last check is a day old, for this
   * replica alone (SKIP LOCKED, and checked_at moves at once): every replica may run the job.
   */
  async takeDue(limit: number): Promise<(DomainClaim & { tenantSlug: string })[]> {
    const { rows } = await this.pool.query<DomainClaim & { tenantSlug: string }>(
      `UPDATE tenant_domains d SET checked_at = now()
         FROM (SELECT tenant_id, domain FROM tenant_domains
                WHERE verified AND verified_by = 'dns' AND (checked_at IS NULL OR checked_at < now() - interval '1 day')
                ORDER BY checked_at NULLS FIRST LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE d.tenant_id = due.tenant_id AND d.domain = due.domain
        RETURNING ${columns('d.')},
                  (SELECT slug FROM tenants t WHERE t.id = d.tenant_id) AS "tenantSlug"`,
      [limit],
    );
    return rows;
  }

  /**
   * A re-check's outcome: found resets the count; missing counts, and the second miss in a
   * row unverifies the domain. True when this call unverified it.
   */
  async recordCheck(sql: Sql, tenantId: string, domain: string, found: boolean): Promise<boolean> {
    const { rows } = await sql.query<{ unverified: boolean }>(
      `UPDATE tenant_domains SET
         failed_checks = CASE WHEN $3 THEN 0 ELSE failed_checks + 1 END,
         verified = CASE WHEN NOT $3 AND failed_checks + 1 >= 2 THEN false ELSE verified END,
         verified_at = CASE WHEN NOT $3 AND failed_checks + 1 >= 2 THEN NULL ELSE verified_at END,
         verified_by = CASE WHEN NOT $3 AND failed_checks + 1 >= 2 THEN NULL ELSE verified_by END
       WHERE tenant_id = $1 AND domain = $2 AND verified
       RETURNING NOT verified AS unverified`,
      [tenantId, domain, found],
    );
    return rows[0]?.unverified ?? false;
  }
}
