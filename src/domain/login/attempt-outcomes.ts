import type { Metrics } from '../../observability/metrics.js';
import type { LoginAuditService } from '../audit/login-audit.service.js';
import type { Connection } from '../connections/connection.repo.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import type { LoginTransaction } from './login-transaction.js';

/**
 * How many logins that failed before reaching an IdP each process records a minute, at most.
 * Anyone can make those without any credential; past this, they are counted in the metrics only.
 */
export const UNREACHED_PER_MINUTE = 600;

/**
 * The one place a login attempt's outcome is recorded: metrics and the audit row (written in
 * the next batch, audit-writer.ts). Never tokens, codes or claims. The tenant is the
 * connection's.
 */
export class AttemptOutcomes {
  #unreached = { minute: 0, count: 0 };

  constructor(
    private readonly deps: {
      connections: Pick<ConfigCache['connections'], 'findById'>;
      tenants: Pick<ConfigCache['tenants'], 'findById'>;
      audit: Pick<LoginAuditService, 'record'>;
      metrics: Pick<Metrics, 'loginsStarted' | 'loginsCompleted' | 'loginsFailed' | 'loginDuration'>;
    },
  ) {}

  /** A login sent to its IdP. */
  started(tenant: Tenant): void {
    this.deps.metrics.loginsStarted.inc({ tenant: tenant.slug });
  }

  /** A login that could not even be sent to its IdP (the learner went back to the app). */
  async failedToStart(input: {
    tenant: Tenant;
    connection: Connection;
    appId: string;
    error: string;
    requestId: string | undefined;
  }): Promise<void> {
    this.deps.metrics.loginsFailed.inc({ tenant: input.tenant.slug, reason: input.error });
    this.deps.audit.record({
      tenantId: input.tenant.id,
      connectionId: input.connection.id,
      appId: input.appId,
      outcome: 'failure',
      error: input.error,
      durationMs: 0,
      requestId: input.requestId ?? null,
    });
  }

  /**
   * A login that failed before it was sent to an IdP: no such app, an unregistered return URL,
   * no such organisation, no connection. Recorded with what was known by then (the tenant, app
   * and connection, or null), so the request id on the learner's error page finds it. Such
   * failures need no credential, so each process writes at most UNREACHED_PER_MINUTE of them a
   * minute (the audit retention deletes them like any attempt): a flood cannot grow the table
   * beyond that bound.
   */
  failedBeforeIdp(input: {
    tenant: Tenant | undefined;
    connectionId: string | undefined;
    appId: string | undefined;
    error: string;
    step: string;
    requestId: string | undefined;
  }): void {
    this.deps.metrics.loginsFailed.inc({ tenant: input.tenant?.slug ?? 'unknown', reason: input.error });
    const minute = Math.floor(Date.now() / 60_000);
    if (this.#unreached.minute !== minute) this.#unreached = { minute, count: 0 };
    if (++this.#unreached.count > UNREACHED_PER_MINUTE) return;
    this.deps.audit.record({
      tenantId: input.tenant?.id ?? null,
      connectionId: input.connectionId ?? null,
      appId: input.appId ?? null,
      outcome: 'failure',
      error: input.error,
      durationMs: 0,
      requestId: input.requestId ?? null,
      step: input.step,
    });
  }

  /** A login that minted its ticket for `appId`. */
  succeeded(tx: LoginTransaction, tenant: Tenant, appId: string): void {
    const durationMs = Date.now() - tx.createdAt;
    this.deps.metrics.loginsCompleted.inc({ tenant: tenant.slug });
    this.deps.metrics.loginDuration.observe({ outcome: 'success' }, durationMs / 1000);
    this.deps.audit.record({
      tenantId: tenant.id,
      connectionId: tx.connectionId,
      appId,
      outcome: 'success',
      error: null,
      durationMs,
      requestId: tx.requestId ?? null,
    });
  }

  /** A login whose transaction is known and that failed with `error`, at `step` when known. */
  async failed(tx: LoginTransaction, error: string, step?: string): Promise<void> {
    const connection = await this.deps.connections.findById(tx.connectionId).catch(() => undefined);
    const tenant = connection && (await this.deps.tenants.findById(connection.tenantId).catch(() => undefined));
    this.deps.metrics.loginsFailed.inc({ tenant: tenant?.slug ?? 'unknown', reason: error });
    this.deps.metrics.loginDuration.observe({ outcome: 'failure' }, (Date.now() - tx.createdAt) / 1000);
    if (!tenant) return;
    this.deps.audit.record({
      tenantId: tenant.id,
      connectionId: tx.connectionId,
      appId: tx.purpose.kind === 'app' ? tx.purpose.appId : null,
      outcome: 'failure',
      error,
      durationMs: Date.now() - tx.createdAt,
      requestId: tx.requestId ?? null,
      step: step ?? null,
    });
  }
}
