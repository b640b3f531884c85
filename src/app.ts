import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { BrokerKeys } from './config/broker-keys.js';
import type { Config } from './config/config.js';
import { randomBytesPooled } from './crypto/random.js';
import { SecretBox } from './crypto/secret-box.js';
import type { Database } from './db/database.js';
import { LoginAuditRepo } from './domain/audit/login-audit.repo.js';
import { LoginAuditService } from './domain/audit/login-audit.service.js';
import { AppRepo } from './domain/apps/app.repo.js';
import { ConfigCache } from './domain/config-cache.js';
import { startHousekeeping } from './domain/housekeeping.js';
import { ConfigChanges } from './db/config-changes.js';
import { AppService } from './domain/apps/app.service.js';
import { ConnectionRepo } from './domain/connections/connection.repo.js';
import { ConnectionService } from './domain/connections/connection.service.js';
import { AttemptOutcomes } from './domain/login/attempt-outcomes.js';
import { LoginCallbackService } from './domain/login/login-callback.service.js';
import { LoginStartService } from './domain/login/login-start.service.js';
import { LogoutService } from './domain/login/logout.service.js';
import { TestLoginRepo } from './domain/login/test-login.repo.js';
import { TestLoginService } from './domain/login/test-login.service.js';
import { hostnameOf, isWithinDomain } from './domain/login/host-names.js';
import { TransactionCookies } from './domain/login/transaction-cookies.js';
import { TenantRepo } from './domain/tenants/tenant.repo.js';
import { TenantService } from './domain/tenants/tenant.service.js';
import { SessionRepo, TicketRepo } from './domain/tickets/ticket.repo.js';
import { TicketService } from './domain/tickets/ticket.service.js';
import { adminRoutes } from './http/admin/admin.plugin.js';
import { jsonErrorHandler } from './http/errors.js';
import { redemptionRoutes } from './http/redemption/redemption.plugin.js';
import { browserRoutes } from './http/browser/browser.plugin.js';
import { healthRoutes } from './http/ops/health.route.js';
import { wellKnownRoutes } from './http/well-known/jwks.route.js';
import { IdpRegistry } from './oidc/idp-registry.js';
import type { Dispatcher } from 'undici';
import { boundedFetch } from './oidc/bounded-fetch.js';
import { IdpNetworkPolicy, type IdpLookup } from './oidc/network-policy.js';
import { createMetrics, type Metrics } from './observability/metrics.js';

export interface AppDeps {
  database: Database;
  keys: BrokerKeys;
  logger: Logger;
  /** How IdP host names resolve (default: the system resolver); tests make names rebind. */
  idpLookup?: IdpLookup;
  /** undici interceptors in front of the policed IdP connections (boundedFetch). */
  idpInterceptors?: readonly Dispatcher.DispatcherComposeInterceptor[];
}

/**
 * TENANT_DOMAIN, when PUBLIC_URL's host is it or below it: then a login started on a tenant
 * subdomain can set its cookie for TENANT_DOMAIN and it reaches the callback. Otherwise
 * cookies stay host-only.
 */
function subdomainCookieDomain(config: Pick<Config, 'tenantDomain' | 'callbackUrl'>): string | undefined {
  const parent = config.tenantDomain === undefined ? undefined : hostnameOf(config.tenantDomain);
  return parent !== undefined && isWithinDomain(new URL(config.callbackUrl).hostname, parent) ? parent : undefined;
}

/** Every service, wired in one place: repos (Prisma/pg) → services → routes. */
export function createServices(config: Config & { secretKeys: Buffer[] }, deps: AppDeps, metrics: Metrics) {
  const secretBox = new SecretBox(config.secretKeys);
  const tenantRepo = new TenantRepo(deps.database.prisma);
  const connectionRepo = new ConnectionRepo(deps.database.prisma);
  const appRepo = new AppRepo(deps.database.prisma);
  // Logins read configuration through the cache; a trigger announces every change to it.
  const configCache = new ConfigCache({
    tenants: tenantRepo,
    connections: connectionRepo,
    apps: appRepo,
    ttlMs: config.configCacheTtlSeconds * 1000,
    metrics,
  });
  const configChanges = new ConfigChanges({
    connectionString: deps.database.url,
    onChange: () => configCache.clear(),
    log: deps.logger,
  });
  const announce = () => configChanges.announce();
  // One policy for every request to an IdP, logins and validation reports alike.
  const idpNetworkPolicy = new IdpNetworkPolicy({ privateNetworks: config.idpPrivateNetworks, lookup: deps.idpLookup });
  // One pool of kept-alive IdP connections for both.
  const idpFetch = boundedFetch({
    policy: idpNetworkPolicy,
    ...(deps.idpInterceptors && { interceptors: deps.idpInterceptors }),
  });
  const idps = new IdpRegistry({
    keys: deps.keys,
    networkPolicy: idpNetworkPolicy,
    fetch: idpFetch,
    timeoutSeconds: config.idpTimeoutSeconds,
    clockToleranceSeconds: config.clockToleranceSeconds,
    jwksCooldownSeconds: config.jwksCooldownSeconds,
    discoveryTtlSeconds: config.discoveryTtlSeconds,
    jwksMaxAgeSeconds: config.jwksMaxAgeSeconds,
    metrics,
    log: deps.logger,
  });
  const connections = new ConnectionService({
    connections: connectionRepo,
    tenants: tenantRepo,
    secretBox,
    keys: deps.keys,
    callbackUrl: config.callbackUrl,
    idpTimeoutSeconds: config.idpTimeoutSeconds,
    idpNetworkPolicy,
    idpFetch,
    announce,
  });
  const auditRepo = new LoginAuditRepo(deps.database.pool);
  const audit = new LoginAuditService({ audit: auditRepo, tenants: tenantRepo, log: deps.logger });
  const ticketRepo = new TicketRepo(deps.database.pool);
  const tickets = new TicketService({
    tickets: ticketRepo,
    apps: configCache.apps,
    secretBox,
    ttlSeconds: config.ticketTtlSeconds,
    metrics,
  });
  // What logins read of the configuration, and what they record.
  const loginConfig = {
    apps: configCache.apps,
    tenants: configCache.tenants,
    connections: configCache.connections,
    connectionService: connections,
    idps,
  };
  const outcomes = new AttemptOutcomes({ ...loginConfig, audit, metrics });
  const cookies = new TransactionCookies({
    secretBox,
    secure: config.secureCookies,
    domain: subdomainCookieDomain(config),
    // A minute past the transaction's lifetime, so a learner who took too long is told the
    // login expired rather than that it could not be matched to this browser.
    maxAgeSeconds: config.transactionTtlSeconds + 60,
  });
  const loginStart = new LoginStartService({
    ...loginConfig,
    outcomes,
    cookies,
    callbackUrl: config.callbackUrl,
    tenantDomain: config.tenantDomain,
    log: deps.logger,
  });
  const loginCallback = new LoginCallbackService({
    ...loginConfig,
    tickets,
    outcomes,
    cookies,
    callbackUrl: config.callbackUrl,
    transactionTtlSeconds: config.transactionTtlSeconds,
    log: deps.logger,
  });
  const logout = new LogoutService({
    apps: configCache.apps,
    sessions: new SessionRepo(deps.database.pool),
    connections: configCache.connections,
    connectionService: connections,
    idps,
    secretBox,
    logoutDoneUrl: `${config.publicUrl}/api/sso/logout/done`,
    log: deps.logger,
  });
  const testLogin = new TestLoginService({
    links: new TestLoginRepo(deps.database.pool),
    start: loginStart,
    callback: loginCallback,
    connections: configCache.connections,
    tenants: configCache.tenants,
    publicUrl: config.publicUrl,
    callbackUrl: config.callbackUrl,
  });
  return {
    tenants: new TenantService(tenantRepo, announce),
    connections,
    apps: new AppService({ apps: appRepo, tenants: tenantRepo, announce }),
    configChanges,
    tickets,
    loginStart,
    loginCallback,
    logout,
    testLogin,
    audit,
    auditRepo,
    ticketRepo,
    findConnection: configCache.connections.findById,
  };
}

/** Builds the broker as a Fastify instance; never listens (main.ts and tests do). */
export async function buildApp(config: Config & { secretKeys: Buffer[] }, deps: AppDeps): Promise<FastifyInstance> {
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

  const metrics = createMetrics();
  const services = createServices(config, deps, metrics);
  await services.configChanges.start();
  app.addHook('onClose', async () => services.configChanges.stop());
  await app.register(healthRoutes, {
    ping: () => deps.database.ping(),
    metrics: metrics.registry,
    metricsToken: config.metricsToken,
    configListener: services.configChanges,
  });
  await app.register(wellKnownRoutes, { keys: deps.keys });
  await app.register(browserRoutes, {
    loginStart: services.loginStart,
    loginCallback: services.loginCallback,
    logout: services.logout,
    testLogin: services.testLogin,
    keys: deps.keys,
    findConnection: services.findConnection,
    publicUrl: config.publicUrl,
    callbackUrl: config.callbackUrl,
    secureCookies: config.secureCookies,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  await app.register(redemptionRoutes, { tickets: services.tickets, rateLimitPerMinute: config.rateLimitPerMinute });
  await app.register(adminRoutes, {
    adminToken: config.adminToken,
    tenants: services.tenants,
    connections: services.connections,
    apps: services.apps,
    audit: services.audit,
    testLogin: services.testLogin,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });
  const stopHousekeeping = startHousekeeping({
    audit: services.auditRepo,
    tickets: services.ticketRepo,
    retentionDays: config.auditRetentionDays,
    log: deps.logger,
  });
  app.addHook('onClose', async () => stopHousekeeping());
  // Requests outside every route (an unknown path whose body Fastify already refused, say)
  // get the same JSON errors as the API, never Fastify's own format.
  app.setErrorHandler(jsonErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', error_description: 'No such endpoint.', request_id: request.id }),
  );
  return app;
}
