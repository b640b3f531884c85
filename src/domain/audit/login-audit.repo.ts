import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface LoginAttempt {
  /** Null: the attempt failed before a tenant was known (no such organisation, app, return URL). */
  tenantId: string | null;
  connectionId: string | null;
  appId: string | null;
  outcome: 'success' | 'failure';
  error: string | null;
  durationMs: number;
  /** The request that ended it (on the learner's error page). */
  requestId: string | null;
  /** The step a failure happened at (a start step, or a callback step of pipeline.ts). */
  step?: string | null;
  /**
   * Failed before its IdP was involved (true only from AttemptOutcomes.failedBeforeIdp): anyone
   * can make such a failure with a link, so it never counts in a connection's health.
   */
  beforeIdp?: boolean;
}

export interface LoginAttemptRow {
  at: string;
  connection: string | null;
  app: string | null;
  outcome: 'success' | 'failure';
  error: string | null;
  durationMs: number;
  requestId: string | null;
}

export interface ConnectionHealth {
  connection: string;
  logins: number;
  successes: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** Login attempts and housekeeping, in plain SQL: attempts arrive in batches (audit-writer.ts). */
export class LoginAuditRepo {
  constructor(private readonly pool: pg.Pool) {}

  /** Several attempts in one statement (the audit writer's batches), each with its own time. */
  async recordMany(attempts: readonly (LoginAttempt & { at: Date })[]): Promise<void> {
    if (attempts.length === 0) return;
    const column = <T>(pick: (a: LoginAttempt & { at: Date }) => T) => attempts.map(pick);
    await this.pool.query({
      text: `INSERT INTO login_attempts (id, at, tenant_id, connection_id, app_id, outcome, error, duration_ms,
                                         request_id, step, before_idp)
             SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                                  $7::text[], $8::int[], $9::text[], $10::text[], $11::boolean[])`,
      values: [
        column(() => randomUUID()),
        column((a) => a.at),
        column((a) => a.tenantId),
        column((a) => a.connectionId),
        column((a) => a.appId),
        column((a) => a.outcome),
        column((a) => a.error),
        column((a) => Math.max(0, Math.round(a.durationMs))),
        column((a) => a.requestId),
        column((a) => a.step ?? null),
        column((a) => a.beforeIdp ?? false),
      ],
    });
  }

  /** One tenant's attempts, newest first (GET /admin/tenants/:slug/logins). */
  async listForTenant(
    tenantId: string,
    options: { limit: number; outcome?: 'success' | 'failure' | undefined },
  ): Promise<LoginAttemptRow[]> {
    const rows = await this.search({ tenantId, outcome: options.outcome, limit: options.limit });
    return rows.map(({ tenant: _tenant, step: _step, ...row }) => row);
  }

  /**
   * Attempts of any tenant, filtered (the console's logins view), newest first, with the tenant's
   * slug (null: failed before a tenant was known; `tenantId: null` finds only those).
   */
  async search(filter: {
    tenantId?: string | null | undefined;
    connectionId?: string | undefined;
    appId?: string | undefined;
    outcome?: 'success' | 'failure' | undefined;
    error?: string | undefined;
    requestId?: string | undefined;
    limit: number;
  }): Promise<(LoginAttemptRow & { tenant: string | null; step: string | null })[]> {
    const { rows } = await this.pool.query<{
      at: Date;
      tenant: string | null;
      connection: string | null;
      app: string | null;
      outcome: 'success' | 'failure';
      error: string | null;
      duration_ms: number;
      request_id: string | null;
      step: string | null;
    }>(
      `SELECT a.at, t.slug AS tenant, a.connection_id AS connection, a.app_id AS app, a.outcome, a.error,
              a.duration_ms, a.request_id, a.step
         FROM login_attempts a LEFT JOIN tenants t ON t.id = a.tenant_id
        WHERE CASE WHEN $8::boolean THEN a.tenant_id IS NULL ELSE ($1::text IS NULL OR a.tenant_id = $1) END
          AND ($2::text IS NULL OR a.connection_id = $2)
          AND ($3::text IS NULL OR a.app_id = $3) AND ($4::text IS NULL OR a.outcome = $4)
          AND ($5::text IS NULL OR a.error = $5) AND ($6::text IS NULL OR a.request_id = $6)
        ORDER BY a.at DESC, a.id LIMIT $7`,
      [
        filter.tenantId ?? null,
        filter.connectionId ?? null,
        filter.appId ?? null,
        filter.outcome ?? null,
        filter.error ?? null,
        filter.requestId ?? null,
        filter.limit,
        filter.tenantId === null,
      ],
    );
    return rows.map((row) => ({
      at: row.at.toISOString(),
      tenant: row.tenant,
      connection: row.connection,
      app: row.app,
      outcome: row.outcome,
      error: row.error,
      durationMs: row.duration_ms,
      requestId: row.request_id,
      step: row.step,
    }));
  }

  /**
   * Each connection's logins since `since`: how many, how many succeeded, and its last error
   * with its time (the console's health at a glance). Failures before the IdP was involved are
   * left out: anyone can make them with a link naming the connection, and they say nothing of it.
   */
  async healthSince(since: Date): Promise<ConnectionHealth[]> {
    const { rows } = await this.pool.query<{
      connection: string;
      logins: number;
      successes: number;
      last_error: string | null;
      last_error_at: Date | null;
    }>(
      `SELECT connection_id AS connection, count(*)::int AS logins,
              count(*) FILTER (WHERE outcome = 'success')::int AS successes,
              (array_agg(error ORDER BY at DESC) FILTER (WHERE outcome = 'failure'))[1] AS last_error,
              max(at) FILTER (WHERE outcome = 'failure') AS last_error_at
         FROM login_attempts WHERE at >= $1 AND connection_id IS NOT NULL AND NOT before_idp
        GROUP BY connection_id`,
      [since],
    );
    return rows.map((row) => ({
      connection: row.connection,
      logins: row.logins,
      successes: row.successes,
      lastError: row.last_error,
      lastErrorAt: row.last_error_at?.toISOString() ?? null,
    }));
  }

  /** Deletes attempts older than the retention. */
  async purge(retentionDays: number): Promise<number> {
    const attempts = await this.pool.query(`DELETE FROM login_attempts WHERE at < now() - make_interval(days => $1)`, [
      retentionDays,
    ]);
    return attempts.rowCount ?? 0;
  }
}
