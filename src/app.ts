import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config } from './config/config.js';
import { brokerVersion } from './config/local.js';
import { randomBytesPooled } from './crypto/random.js';
import { startHousekeeping } from './domain/housekeeping.js';
import { adminRoutes } from './http/admin/admin.plugin.js';
import { jsonErrorHandler, RETRY_AFTER_SECONDS, toBrokerError } from './http/errors.js';
import { refuseNulCharacters } from './http/nul-characters.js';
import { redemptionRoutes } from './http/redemption/redemption.plugin.js';
import { browserRoutes } from './http/browser/browser.plugin.js';
import { backchannelLogoutRoutes } from './http/backchannel/backchannel-logout.plugin.js';
import { consoleNotFound, consoleRoutes } from './http/console/console.plugin.js';
import { landingRoutes } from './http/console/landing.js';
import { ConsoleSessions, type SignInCode } from './http/console/console-session.js';
import { healthRoutes } from './http/ops/health.route.js';
import { openApi } from './http/openapi/openapi.plugin.js';
import { setupRoutes } from './http/setup/setup.plugin.js';
import { wellKnownRoutes } from './http/well-known/jwks.route.js';
import { createMetrics } from './observability/metrics.js';
import { createServices, type AppDeps } from './services.js';

export type { AppDeps } from './services.js';

/** Builds the broker as a Fastify instance; never listens (main.ts and tests do). */
export async function buildApp(
  config: Config & {
    secretKeys: Buffer[];
    /** Embedded database without ADMIN_TOKEN: a console sign-in link that works once, for a while (main.ts). */
    consoleSignInCode?: SignInCode | undefined;
  },
  deps: AppDeps,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: () => randomBytesPooled(8).toString('hex'),
    // One access-log line per request, written when it is answered (below), not two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    return503OnClosing: true,
    // A hop count n trusts the n proxies nearest to us (proxy-addr's numeric form).
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    // Errors the router raises before any route runs (malformed or over-long URL parts).
    frameworkErrors: (error, request, reply: FastifyReply) =>
      reply.code(error.statusCode ?? 400).send({
        error: 'invalid_request',
        error_description: 'The request URL is malformed or too long.',
        request_id: request.id,
      }),
  });
  // Shutting down: answers to requests still in flight close their connection, so the server
  // drains as soon as they are done instead of waiting out keep-alive.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // A request that failed because the database is away: clients are told when to retry.
  app.addHook('onError', async (_request, reply, error) => {
    if (toBrokerError(error).code === 'temporarily_unavailable')
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  });
  // Before any route is added, so that they all have them. Routes whose plugin sets no error
  // handler of its own (the API reference's) and requests outside every route (an unknown path
  // whose body Fastify already refused, say) get the same JSON errors as the API, never
  // Fastify's own format; a route keeps the error handler in force when it was added.
  app.setErrorHandler(jsonErrorHandler);
  refuseNulCharacters(app);
  // The access log, once per request: method, path (never the query), status and time. Its
  // fields are known to be safe (the serializers keep no query, header or body), so it skips
  // the redaction pass that every other line gets, which would triple its cost.
  const accessLog = deps.logger.child({}, { redact: { paths: [], remove: true } });
  app.addHook('onResponse', (request, reply, done) => {
    accessLog.info(
      { reqId: request.id, req: request, res: reply, responseTime: reply.elapsedTime },
      'request completed',
    );
    done();
  });

  // Before any route: it attaches each API route's schemas as the route is added.
  await openApi(app, { publicUrl: config.publicUrl, version: brokerVersion() });
  const metrics = createMetrics();
  const services = createServices(config, deps, metrics);
  await services.configChanges.start();
  // CONSOLE_TENANT's pinned issuers: one query, and a log line saying which.
  await services.consolePin.load();
  app.addHook('onClose', async () => services.configChanges.stop());
  // Shutting down: the attempts still waiting for their batch are written (after the routes drain).
  app.addHook('onClose', async () => services.auditWriter.close());
  await app.register(healthRoutes, {
    ping: () => deps.database.ping(),
    metrics: metrics.registry,
    metricsToken: config.metricsToken,
    configListener: services.configChanges,
  });
  await app.register(wellKnownRoutes, { keys: deps.keys });
  const consoleSessions = new ConsoleSessions({
    box: services.secretBox,
    store: services.consoleSessionRepo,
    adminToken: config.adminToken,
    sso: services.consoleSignIn,
  });
  await app.register(browserRoutes, {
    consoleSignIn: services.consoleSignIn,
    consoleSessions,
    loginStart: services.loginStart,
    loginCallback: services.loginCallback,
    logout: services.logout,
    testLogin: services.testLogin,
    keys: deps.keys,
    findConnection: services.findConnection,
    findApp: services.findApp,
    publicUrl: config.publicUrl,
    callbackUrl: config.callbackUrl,
    secureCookies: config.secureCookies,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  await app.register(setupRoutes, {
    setupLinks: services.setupLinks,
    domains: services.setupLinkDomains,
    keys: deps.keys,
    publicUrl: config.publicUrl,
    callbackUrl: config.callbackUrl,
    csrfKey: config.secretKeys[0] ?? Buffer.alloc(32),
    secureCookies: config.secureCookies,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  await app.register(backchannelLogoutRoutes, {
    backchannelLogout: services.backchannelLogout,
    findConnection: services.findConnection,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  await app.register(redemptionRoutes, {
    tickets: services.tickets,
    discovery: services.discovery,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  await app.register(adminRoutes, {
    adminToken: config.adminToken,
    tenants: services.tenants,
    connections: services.connections,
    versions: services.versions,
    setupLinks: services.setupLinks,
    expiring: services.expiring,
    changes: services.changes,
    events: services.eventFeed,
    webhooks: services.webhooks,
    domains: services.domains,
    apps: services.apps,
    audit: services.audit,
    testLogin: services.testLogin,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  await app.register(consoleRoutes, {
    sessions: consoleSessions,
    sso: services.consoleSignIn,
    adminToken: config.adminToken,
    signInCode: config.consoleSignInCode,
    publicUrl: config.publicUrl,
    secureCookies: config.secureCookies,
    rateLimitPerMinute: config.rateLimitPerMinute,
    tenants: services.tenants,
    domains: services.domains,
    tenantRepo: services.tenantRepo,
    connections: services.connections,
    versions: services.versions,
    versionRepo: services.versionRepo,
    testLogin: services.testLogin,
    setupLinks: services.setupLinks,
    apps: services.apps,
    audit: services.auditRepo,
    changes: services.changes,
    expiring: services.expiring,
    webhooks: services.webhooks,
    idpLatencyMs: () => metrics.meanIdpLatencyMs('token'),
  });
  // Webhook deliveries: pg-boss's schema and queue, then this replica's workers.
  const stopDeliveries = await services.startDeliveries();
  app.addHook('onClose', async () => stopDeliveries());
  const stopHousekeeping = startHousekeeping({
    audit: services.auditRepo,
    tickets: services.ticketRepo,
    changes: services.changeLogRepo,
    consoleSessions: services.consoleSessionRepo,
    logoutTokenJtis: services.logoutTokenJtis,
    events: services.eventLog,
    retentionDays: config.auditRetentionDays,
    log: deps.logger,
  });
  app.addHook('onClose', async () => stopHousekeeping());
  services.expiring.registerGauge(metrics.registry);
  const stopExpiryWarnings = services.expiring.warnDaily();
  app.addHook('onClose', async () => stopExpiryWarnings());
  const stopExpiryEvents = services.expiryEvents.start();
  app.addHook('onClose', async () => stopExpiryEvents());
  const stopDomainRecheck = services.domainRecheck.start();
  app.addHook('onClose', async () => stopDomainRecheck());
  await app.register(landingRoutes);
  app.setNotFoundHandler(
    (request, reply) =>
      consoleNotFound(request, reply) ??
      reply.code(404).send({ error: 'not_found', error_description: 'No such endpoint.', request_id: request.id }),
  );
  return app;
}
