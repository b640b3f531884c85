import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface Change {
  actor: string;
  resource: string;
  id: string;
  action: string;
  /** The names of the fields written; never their values. */
  fields: string[];
  address: string | null;
}

export interface ChangeRow extends Change {
  at: string;
}

/** The links of the tenant whose slug is $3. */
const LINKS_OF_TENANT = `SELECT l.id, l.connection_id FROM setup_links l JOIN tenants t ON t.id = l.tenant_id
  WHERE t.slug = $3`;

/**
 * A change of the tenant whose slug is $3 (a connection version's id is "<connection>/<n>", a
 * domain's "<slug>/<domain>").
 */
const OF_TENANT = `(
  (resource = 'tenant' AND resource_id = $3)
  OR (resource IN ('connection', 'connection-version') AND split_part(resource_id, '/', 1) IN (
    SELECT c.id FROM connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = $3
    UNION SELECT connection_id FROM (${LINKS_OF_TENANT}) links))
  OR (resource = 'setup-link' AND resource_id IN (SELECT id FROM (${LINKS_OF_TENANT}) links))
  OR (resource = 'domain' AND split_part(resource_id, '/', 1) = $3)
)`;

/** The admin audit trail, in plain SQL. */
export class ChangeLogRepo {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  async record(change: Change): Promise<void> {
    await this.pool.query(
      `INSERT INTO admin_changes (id, actor, resource, resource_id, action, fields, address)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [randomUUID(), change.actor, change.resource, change.id, change.action, change.fields, change.address],
    );
  }

  /**
   * Newest first; one resource kind, or all; one tenant's, or all. A tenant's changes are those of
   * the tenant itself (by slug), of its connections (and of the connections its setup links reserve)
   * and their versions, of its setup links and of its domains — filtered here, in SQL, so that a
   * quiet tenant's history is not crowded out of the page by a busy one's.
   */
  async list(resource: string | undefined, limit: number, tenant?: string): Promise<ChangeRow[]> {
    const { rows } = await this.pool.query<{
      at: Date;
      actor: string;
      resource: string;
      resource_id: string;
      action: string;
      fields: string[];
      address: string | null;
    }>(
      `SELECT at, actor, resource, resource_id, action, fields, address FROM admin_changes
       WHERE ($1::text IS NULL OR resource = $1) AND ($3::text IS NULL OR ${OF_TENANT})
       ORDER BY at DESC, id LIMIT $2`,
      [resource ?? null, limit, tenant ?? null],
    );
    return rows.map((row) => ({
      at: row.at.toISOString(),
      actor: row.actor,
      resource: row.resource,
      id: row.resource_id,
      action: row.action,
      fields: row.fields,
      address: row.address,
    }));
  }

  /** Changes older than `days` days; how many were deleted. */
  async purge(days: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM admin_changes WHERE at < now() - make_interval(days => $1)`,
      [days],
    );
    return rowCount ?? 0;
  }
}
