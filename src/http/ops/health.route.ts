import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { bearerTokenMatches } from '../bearer.js';
import { BrokerError } from '../../errors/broker-error.js';
import { jsonErrorHandler } from '../errors.js';

export interface HealthDeps {
  ping(): Promise<void>;
  metrics: Registry;
  /** METRICS_TOKEN: the bearer token /metrics requires; undefined leaves /metrics open. */
  metricsToken: string | undefined;
  /** The LISTEN connection that announces configuration changes (ConfigChanges). */
  configListener: { readonly listening: boolean };
}

/** Contract, Operations: `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. */
function assertMetricsToken(request: FastifyRequest, token: string | undefined): void {
  if (token === undefined) return;
  if (!bearerTokenMatches(request.headers.authorization, token)) throw new BrokerError('unauthorized');
}

/** How long one answer of the database is /readyz's answer, milliseconds. */
export const READINESS_CACHE_MS = 1_000;

/**
 * `ping`, asked at most once per `ttlMs`: callers within that time share the last outcome
 * (success or failure), and callers while a ping is in flight share that ping. /readyz needs
 * no authentication and no rate limit stands before it (load balancers poll it from few
 * addresses), so without this every call would cost a database round trip: a flood of them
 * would be a flood of queries. A second's staleness is well inside any probe's period.
 */
export function sharedPing(ping: () => Promise<void>, ttlMs = READINESS_CACHE_MS): () => Promise<void> {
  let last: { outcome: Promise<void>; settledAt: number } | undefined;
  let inFlight: Promise<void> | undefined;
  return () => {
    if (last && performance.now() - last.settledAt < ttlMs) return last.outcome;
    if (inFlight) return inFlight;
    const outcome = ping();
    inFlight = outcome;
    const settle = () => {
      inFlight = undefined;
      last = { outcome, settledAt: performance.now() };
    };
    outcome.then(settle, settle);
    return outcome;
  };
}

/**
 * Liveness (the process answers), readiness (the database answers) and Prometheus metrics.
 *
 * /readyz follows the database only: 503 `not_ready` when it does not answer, as last seen at
 * most READINESS_CACHE_MS ago (sharedPing). A lost config
 * listener is reported (200 `{"status":"degraded","configListener":"down"}`) but keeps the
 * replica in its load balancer: it is a problem every replica shares at once (it is the same
 * database), the caches still expire by their TTL, and the listener reconnects by itself.
 */
export async function healthRoutes(app: FastifyInstance, deps: HealthDeps) {
  const ping = sharedPing(deps.ping);
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof BrokerError && error.code === 'unauthorized')
      void reply.header('www-authenticate', 'Bearer realm="sso-broker-metrics"');
    return jsonErrorHandler(error, request, reply);
  });
  // sso_dependency_up{dependency}: what /readyz says, for alerting (read at each scrape).
  new Gauge({
    name: 'sso_dependency_up',
    help: 'Whether the broker reaches a dependency: the database, the configuration listener (1 up, 0 down)',
    labelNames: ['dependency'],
    registers: [deps.metrics],
    async collect() {
      const database = await ping().then(
        () => 1,
        () => 0,
      );
      this.set({ dependency: 'database' }, database);
      this.set({ dependency: 'config_listener' }, deps.configListener.listening ? 1 : 0);
    },
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await ping();
    } catch (error) {
      const listener = deps.configListener.listening ? 'up' : 'down';
      throw new BrokerError('not_ready', {
        description: 'The database is not reachable.',
        details: { database: 'down', configListener: listener },
        cause: error,
      });
    }
    void reply.header('cache-control', 'no-store');
    if (!deps.configListener.listening) return { status: 'degraded', configListener: 'down' };
    return { status: 'ok' };
  });
  app.get('/metrics', async (request, reply) => {
    assertMetricsToken(request, deps.metricsToken);
    return reply
      .header('cache-control', 'no-store')
      .type(deps.metrics.contentType)
      .send(await deps.metrics.metrics());
  });
}
