import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The broker's Prometheus metrics (contract: GET /metrics). One registry per app instance,
 * so tests can run several brokers in one process.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const loginsStarted = new Counter({
    name: 'sso_logins_started_total',
    help: 'Logins sent to an IdP',
    labelNames: ['tenant'],
    registers: [registry],
  });
  const loginsCompleted = new Counter({
    name: 'sso_logins_completed_total',
    help: 'Logins that minted a ticket',
    labelNames: ['tenant'],
    registers: [registry],
  });
  const loginsFailed = new Counter({
    name: 'sso_logins_failed_total',
    help: 'Logins that failed, by error code',
    labelNames: ['tenant', 'reason'],
    registers: [registry],
  });
  const loginAttemptsUnrecorded = new Counter({
    name: 'sso_login_attempts_unrecorded_total',
    help: 'Logins that failed before reaching an IdP, not written to the login audit (past its budget a minute)',
    labelNames: ['tenant'],
    registers: [registry],
  });
  const ticketsRedeemed = new Counter({
    name: 'sso_tickets_redeemed_total',
    help: 'Tickets redeemed by apps',
    registers: [registry],
  });
  const ticketsRefused = new Counter({
    name: 'sso_tickets_refused_total',
    help: 'Redemptions refused (invalid_ticket or invalid_client)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const ticketClaimsPending = new Gauge({
    name: 'sso_ticket_claims_pending',
    help: 'Ticket redemptions waiting for their claim to commit (in flight or queued behind it)',
    registers: [registry],
  });
  const ticketClaimBatch = new Histogram({
    name: 'sso_ticket_claim_batch_size',
    help: 'Claims committed by one INSERT (group commit of concurrent redemptions)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const loginDuration = new Histogram({
    name: 'sso_login_duration_seconds',
    help: 'From the redirect to the IdP to the ticket (or the failure)',
    labelNames: ['outcome'],
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const idpRequestDuration = new Histogram({
    name: 'sso_idp_request_duration_seconds',
    help: 'Requests to IdPs by connection and endpoint (discovery, token, jwks, userinfo)',
    labelNames: ['connection', 'endpoint'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const idpCache = new Counter({
    name: 'sso_idp_cache_total',
    help: 'IdP configuration cache lookups',
    labelNames: ['result'],
    registers: [registry],
  });
  const configCache = new Counter({
    name: 'sso_config_cache_total',
    help: 'Tenant, app and connection cache lookups on the login path',
    labelNames: ['result'],
    registers: [registry],
  });
  /** Each connection's mean duration of requests to one IdP endpoint, ms, as this process saw them. */
  const meanIdpLatencyMs = async (endpoint: string): Promise<Map<string, number>> => {
    const sums = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const v of (await idpRequestDuration.get()).values) {
      const connection = v.labels.connection;
      if (v.labels.endpoint !== endpoint || typeof connection !== 'string') continue;
      if (v.metricName === 'sso_idp_request_duration_seconds_sum') sums.set(connection, v.value);
      if (v.metricName === 'sso_idp_request_duration_seconds_count') counts.set(connection, v.value);
    }
    const means = new Map<string, number>();
    for (const [connection, count] of counts) {
      if (count > 0) means.set(connection, Math.round((1000 * (sums.get(connection) ?? 0)) / count));
    }
    return means;
  };
  return {
    registry,
    meanIdpLatencyMs,
    loginsStarted,
    loginsCompleted,
    loginsFailed,
    loginAttemptsUnrecorded,
    ticketsRedeemed,
    ticketsRefused,
    ticketClaimsPending,
    ticketClaimBatch,
    loginDuration,
    idpRequestDuration,
    idpCache,
    configCache,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
