import type { Metrics } from '../../observability/metrics.js';
import type { LoginAuditService } from '../audit/login-audit.service.js';
import type { Connection } from '../connections/connection.repo.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import type { LoginTransaction } from './login-transaction.js';

/**
 * How many logins that failed before reaching an IdP each process records a minute, at most, per
 * tenant (and as many for those with no tenant). Anyone can make those without any credential;
 * past this, they are counted in the metrics only (`sso_login_attempts_unrecorded_total`).
 */
export const UNREACHED_PER_MINUTE = 600;

/** The budget of attempts with no tenant (unknown organisation, app or return URL). */
const NO_TENANT = '';

/** One tenant's budget in the current minute. */
interface Budget {
  recorded: number;
  warned: boolean;
}

/**
 * The one place a login attempt's outcome is recorded: metrics and the audit row (written in
 * the next batch, audit-writer.ts). Never tokens, codes or claims. The tenant is the
 * connection's.
 */
export class AttemptOutcomes {
  /**
   * This minute's budget of each tenant (by id; NO_TENANT for none), made anew each minute: it
   * holds at most one entry per tenant in the configuration, plus one.
   */
  #budgets = { minute: 0, byTenant: new Map<string, Budget>() };

  constructor(
    private readonly deps: {
      connections: Pick<ConfigCache['connections'], 'findById'>;
      tenants: Pick<ConfigCache['tenants'], 'findById'>;
      audit: Pick<LoginAuditService, 'record'>;
      metrics: Pick<
        Metrics,
        'loginsStarted' | 'loginsCompleted' | 'loginsFailed' | 'loginDuration' | 'loginAttemptsUnrecorded'
      >;
      log: { warn(obj: object, msg: string): void };
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
   * no such organisation, no connection; or a callback with no transaction of this browser.
   * Recorded with what was known by then (the tenant, app and connection, or null), so the
   * request id on the learner's error page finds it. Such
   * failures need no credential, so each process writes at most UNREACHED_PER_MINUTE of them a
   * minute per tenant, and as many with no tenant (the audit retention deletes them like any
   * attempt): a flood cannot grow the table beyond that bound, and a flood of bogus links (no
   * tenant, or another tenant) leaves a tenant's own learners' failures recorded.
   */
  failedBeforeIdp(input: {
    tenant: Tenant | undefined;
    connectionId: string | undefined;
    appId: string | undefined;
    error: string;
    step: string;
    requestId: string | undefined;
  }): void {
    const tenant = input.tenant?.slug ?? 'unknown';
    this.deps.metrics.loginsFailed.inc({ tenant, reason: input.error });
    if (!this.#withinBudget(input.tenant?.id ?? NO_TENANT, tenant)) return;
    this.deps.audit.record({
      tenantId: input.tenant?.id ?? null,
      connectionId: input.connectionId ?? null,
      appId: input.appId ?? null,
      outcome: 'failure',
      error: input.error,
      durationMs: 0,
      requestId: input.requestId ?? null,
      step: input.step,
      // At 'idp' the connection's IdP could not be reached: that is its health; before, nothing was asked of it.
      beforeIdp: input.step !== 'idp',
    });
  }

  /**
   * Whether this minute's budget of `tenantId` still has room for one more attempt; past it the
   * attempt is counted as unrecorded, and the log says so once a minute per tenant.
   */
  #withinBudget(tenantId: string, tenant: string): boolean {
    const minute = Math.floor(Date.now() / 60_000);
    if (this.#budgets.minute !== minute) this.#budgets = { minute, byTenant: new Map() };
    let budget = this.#budgets.byTenant.get(tenantId);
    if (budget === undefined) {
      budget = { recorded: 0, warned: false };
      this.#budgets.byTenant.set(tenantId, budget);
    }
    if (budget.recorded < UNREACHED_PER_MINUTE) {
      budget.recorded++;
      return true;
    }
    this.deps.metrics.loginAttemptsUnrecorded.inc({ tenant });
    if (!budget.warned) {
      budget.warned = true;
      this.deps.log.warn(
        { tenant, perMinute: UNREACHED_PER_MINUTE },
        'logins failing before reaching an IdP exceed the audit budget: the rest of this minute are counted in ' +
          'sso_login_attempts_unrecorded_total only',
      );
    }
    return false;
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
