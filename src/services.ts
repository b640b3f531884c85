import type { Logger } from 'pino';
import type { BrokerKeys } from './config/broker-keys.js';
import type { Config } from './config/config.js';
import { SecretBox } from './crypto/secret-box.js';
import type { Database } from './db/database.js';
import { LoginAuditRepo } from './domain/audit/login-audit.repo.js';
import { AuditWriter } from './domain/audit/audit-writer.js';
import { LoginAuditService } from './domain/audit/login-audit.service.js';
import { AppRepo } from './domain/apps/app.repo.js';
import { ConfigCache } from './domain/live-config/config-cache.js';
import { ConfigChanges } from './domain/live-config/config-changes.js';
import { AppService } from './domain/apps/app.service.js';
import { ConnectionVersionRepo } from './domain/connections/connection-version.repo.js';
import { ConnectionVersionService } from './domain/connections/connection-version.service.js';
import { ConnectionRepo } from './domain/connections/connection.repo.js';
import { ConnectionService } from './domain/connections/connection.service.js';
import { AttemptOutcomes } from './domain/login/attempt-outcomes.js';
import { LoginCallbackService } from './domain/login/login-callback.service.js';
import { LoginStartService } from './domain/login/login-start.service.js';
import { ConsoleSignIn } from './domain/login/console-sign-in.service.js';
import { ConsoleSessionRepo } from './domain/login/console-session.repo.js';
import { ConsolePin } from './domain/login/console-pin.js';
import { ConsolePinRepo } from './domain/login/console-pin.repo.js';
import { TestLoginRepo } from './domain/login/test-login.repo.js';
import { TestLoginService } from './domain/login/test-login.service.js';
import { subdomainCookieDomain } from './domain/login/host-names.js';
import { TransactionCookies } from './domain/login/transaction-cookies.js';
import { ChangeLogRepo } from './domain/changes/change-log.repo.js';
import { ChangeLog } from './domain/changes/change-log.service.js';
import { ExpiringCredentials } from './domain/expiring/expiring-credentials.js';
import { SetupLinkRepo } from './domain/setup-links/setup-link.repo.js';
import { SetupLinkService } from './domain/setup-links/setup-link.service.js';
import { TenantRepo } from './domain/tenants/tenant.repo.js';
import { TicketRepo } from './domain/tickets/ticket.repo.js';
import { TicketService } from './domain/tickets/ticket.service.js';
import { IdpRegistry } from './oidc/idp-registry.js';
import { createDomains, createEvents, createSessions } from './after-sign-in.js';
import type { Dispatcher } from 'undici';
import { boundedFetch } from './oidc/bounded-fetch.js';
import { IdpNetworkPolicy, type IdpLookup } from './oidc/network-policy.js';
import type { Metrics } from './observability/metrics.js';

export interface AppDeps {
  database: Database;
  keys: BrokerKeys;
  logger: Logger;
  /** How IdP host names resolve (default: the system resolver); tests make names rebind. */
  idpLookup?: IdpLookup;
  /** How webhook hosts resolve (default: the system resolver). */
  webhookLookup?: IdpLookup;
  /** Tests: the webhook queue's polling and maintenance intervals (s). */
  webhookQueue?: { pollingIntervalSeconds?: number; maintenanceIntervalSeconds?: number };
  /** undici interceptors in front of the policed IdP connections (boundedFetch). */
  idpInterceptors?: readonly Dispatcher.DispatcherComposeInterceptor[];
}

/** Every service, wired in one place: repos (Prisma/pg) → services → routes. */
export function createServices(config: Config & { secretKeys: Buffer[] }, deps: AppDeps, metrics: Metrics) {
  const secretBox = new SecretBox(config.secretKeys);
  const tenantRepo = new TenantRepo(deps.database.prisma);
  const connectionRepo = new ConnectionRepo(deps.database.prisma);
  const appRepo = new AppRepo(deps.database.prisma);
  const versionRepo = new ConnectionVersionRepo(deps.database.prisma);
  const expiring = new ExpiringCredentials({ versions: versionRepo, keys: deps.keys, log: deps.logger });
  const { pool } = deps.database;
  // Contract v4: events and their webhooks (after-sign-in.ts).
  const { registry } = metrics;
  const events = createEvents(config, { ...deps, pool, expiring, apps: appRepo, secretBox, registry });
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
  const versions = new ConnectionVersionService({
    versions: versionRepo,
    connections: connectionRepo,
    connectionService: connections,
    tenants: tenantRepo,
    events: events.events,
    announce,
    log: deps.logger,
  });
  const auditRepo = new LoginAuditRepo(deps.database.pool);
  // Attempts are written in batches, off the login path (audit-writer.ts).
  const auditWriter = new AuditWriter({
    audit: auditRepo,
    log: deps.logger,
    onWritten: (batch) => void events.health.afterWrite(batch),
  });
  const audit = new LoginAuditService({ audit: auditRepo, writer: auditWriter, tenants: tenantRepo });
  const ticketRepo = new TicketRepo(deps.database.pool, metrics);
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
    versions,
    idps,
  };
  const outcomes = new AttemptOutcomes({ ...loginConfig, audit, metrics, log: deps.logger });
  const cookies = new TransactionCookies({
    secretBox,
    secure: config.secureCookies,
    domain: subdomainCookieDomain(config.tenantDomain, config.callbackUrl),
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
  // Contract v4: verified domains and discovery, and the sessions apps and IdPs end (after-sign-in.ts).
  const domainDeps = { pool, tenantRepo, configCache, events: events.events, registry, announce, log: deps.logger };
  const changeLogRepo = new ChangeLogRepo(deps.database.pool);
  const changes = new ChangeLog(changeLogRepo);
  const domains = createDomains(config, { ...domainDeps, changes });
  const sessionDeps = { pool, ...events, ...loginConfig, secretBox, log: deps.logger };
  const sessions = createSessions(config, sessionDeps);
  const testLogin = new TestLoginService({
    links: new TestLoginRepo(deps.database.pool),
    start: loginStart,
    callback: loginCallback,
    connections: configCache.connections,
    tenants: configCache.tenants,
    versions,
    versionRepo,
    publicUrl: config.publicUrl,
    callbackUrl: config.callbackUrl,
  });
  // Read once at start-up (app.ts): which issuers may sign operators in to the console.
  const consolePin = new ConsolePin({
    tenantSlug: config.consoleTenant,
    issuer: config.consoleIssuer,
    repo: new ConsolePinRepo(deps.database.pool),
    log: deps.logger,
  });
  const consoleSignIn = new ConsoleSignIn({
    tenantSlug: config.consoleTenant,
    admins: config.consoleAdmins,
    tenants: configCache.tenants,
    connections: configCache.connections,
    pin: consolePin,
    start: loginStart,
    callback: loginCallback,
    log: deps.logger,
  });
  const setupLinks = new SetupLinkService({
    changes,
    consoleTenant: config.consoleTenant,
    links: new SetupLinkRepo(deps.database.prisma),
    tenants: tenantRepo,
    connections: connectionRepo,
    versionRepo,
    versions,
    testLogin,
    publicUrl: config.publicUrl,
    log: deps.logger,
  });
  return {
    secretBox,
    consolePin,
    consoleSignIn,
    consoleSessionRepo: new ConsoleSessionRepo(deps.database.pool),
    tenantRepo,
    changes,
    changeLogRepo,
    expiring,
    ...domains,
    setupLinks,
    connections,
    versions,
    versionRepo,
    apps: new AppService({ apps: appRepo, tenants: tenantRepo, announce }),
    configChanges,
    tickets,
    loginStart,
    loginCallback,
    ...sessions,
    ...events,
    testLogin,
    audit,
    auditRepo,
    auditWriter,
    ticketRepo,
    findConnection: configCache.connections.findById,
    findApp: configCache.apps.findById,
  };
}
