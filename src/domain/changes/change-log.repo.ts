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

  /** Newest first; one resource kind, or all. */
  async list(resource: string | undefined, limit: number): Promise<ChangeRow[]> {
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
       WHERE $1::text IS NULL OR resource = $1 ORDER BY at DESC, id LIMIT $2`,
      [resource ?? null, limit],
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
