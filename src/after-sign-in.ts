import type pg from 'pg';
import type { Config } from './config/config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { ConnectionService } from './domain/connections/connection.service.js';
import { ConnectionHealthEvents } from './domain/events/connection-health.js';
import { EventFeed } from './domain/events/event-feed.service.js';
import type { ExpiringCredentials } from './domain/expiring/expiring-credentials.js';
import { ExpiryEvents } from './domain/expiring/expiry-events.js';
import { EventLogRepo } from './domain/events/event-log.repo.js';
import { Events } from './domain/events/events.service.js';
import type { ConfigCache } from './domain/live-config/config-cache.js';
import { BackchannelLogoutService } from './domain/sessions/backchannel-logout.service.js';
import { LogoutTokenJtiRepo } from './domain/sessions/logout-token-jti.repo.js';
import { LogoutService } from './domain/sessions/logout.service.js';
import { SessionRepo } from './domain/sessions/session.repo.js';
import type { IdpRegistry } from './oidc/idp-registry.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AppRepo } from './domain/apps/app.repo.js';
import { DeliveryQueue, type DeliveryQueueOptions } from './domain/webhooks/delivery-queue.js';
import { DeliveryWorker } from './domain/webhooks/delivery-worker.js';
import { WebhookDispatch } from './domain/webhooks/webhook-dispatch.js';
import { webhookMetrics } from './domain/webhooks/webhook-metrics.js';
import { WebhookRepo } from './domain/webhooks/webhook.repo.js';
import { WebhookSender } from './domain/webhooks/webhook-sender.js';
import { WebhookService } from './domain/webhooks/webhook.service.js';
import { policedAgent } from './oidc/bounded-fetch.js';
import { IdpNetworkPolicy, type IdpLookup } from './oidc/network-policy.js';
import { DnsTxt } from './domain/domains/dns-txt.js';
import { DiscoveryService } from './domain/domains/discovery.service.js';
import { DomainRecheck } from './domain/domains/domain-recheck.js';
import { DomainRepo } from './domain/domains/domain.repo.js';
import { DomainService } from './domain/domains/domain.service.js';
import type { ChangeLog } from './domain/changes/change-log.service.js';
import { SetupLinkDomains } from './domain/setup-links/setup-link-domains.js';
import type { TenantRepo } from './domain/tenants/tenant.repo.js';
import { TenantService } from './domain/tenants/tenant.service.js';

/**
 * Contract v4, "After sign-in", wired: events (rows before anything reports them done), their
 * webhook deliveries (a pg-boss queue, signed POSTs under WEBHOOK_PRIVATE_NETWORKS), the
 * sessions that apps (RP-initiated logout) and IdPs (back-channel logout) end, and verified
 * domains with discovery.
 */
export function createEvents(
  config: Pick<Config, 'webhookPrivateNetworks'>,
  deps: {
    pool: pg.Pool;
    apps: Pick<AppRepo, 'findById'>;
    expiring: Pick<ExpiringCredentials, 'all'>;
    secretBox: SecretBox;
    registry: Registry;
    logger: Logger;
    /** How webhook hosts resolve (default: the system resolver); tests make names rebind. */
    webhookLookup?: IdpLookup | undefined;
    /** Tests: how often idle workers poll, how often dead replicas' jobs are expired (s). */
    webhookQueue?: Pick<DeliveryQueueOptions, 'pollingIntervalSeconds' | 'maintenanceIntervalSeconds'> | undefined;
  },
) {
  const eventLog = new EventLogRepo(deps.pool);
  const queue = new DeliveryQueue({ pool: deps.pool, log: deps.logger, ...deps.webhookQueue });
  const metrics = webhookMetrics(deps.registry, queue);
  const events = new Events({ repo: eventLog, onEmitted: (event) => metrics.eventsEmitted.inc({ type: event.type }) });
  const webhookRepo = new WebhookRepo(deps.pool);
  events.addSink(new WebhookDispatch(webhookRepo, queue));
  const policy = new IdpNetworkPolicy({
    privateNetworks: config.webhookPrivateNetworks,
    lookup: deps.webhookLookup,
    setting: 'WEBHOOK_PRIVATE_NETWORKS',
  });
  const worker = new DeliveryWorker({
    endpoints: webhookRepo,
    events: eventLog,
    queue,
    sender: new WebhookSender(policedAgent(policy)),
    secretBox: deps.secretBox,
    onAttempt: (outcome) => metrics.deliveries.inc({ outcome }),
    log: deps.logger,
  });
  const webhooks = new WebhookService({
    repo: webhookRepo,
    apps: deps.apps,
    events,
    queue,
    findEvent: (id) => eventLog.findById(id),
    secretBox: deps.secretBox,
  });
  return {
    eventLog,
    events,
    eventFeed: new EventFeed(eventLog),
    /** connection.failing and connection.recovered, after each batch of login attempts is written. */
    health: new ConnectionHealthEvents({ pool: deps.pool, events, log: deps.logger }),
    expiryEvents: new ExpiryEvents({ credentials: deps.expiring, events, log: deps.logger }),
    webhooks,
    /** Starts delivering (pg-boss's schema and queue, then this replica's workers); returns how to stop. */
    async startDeliveries(): Promise<() => Promise<void>> {
      await queue.start();
      await queue.work(worker.handle);
      return () => queue.stop();
    },
  };
}

export function createSessions(
  config: Pick<Config, 'publicUrl'>,
  deps: {
    pool: pg.Pool;
    events: Events;
    apps: ConfigCache['apps'];
    connections: ConfigCache['connections'];
    connectionService: ConnectionService;
    idps: IdpRegistry;
    secretBox: SecretBox;
    log: { warn(obj: object, msg: string): void };
  },
) {
  const sessions = new SessionRepo(deps.pool);
  const logoutTokenJtis = new LogoutTokenJtiRepo(deps.pool);
  const backchannelLogout = new BackchannelLogoutService({
    findConnection: deps.connections.findById,
    connectionService: deps.connectionService,
    idps: deps.idps,
    sessions,
    jtis: logoutTokenJtis,
    events: deps.events,
  });
  const logout = new LogoutService({
    apps: deps.apps,
    sessions,
    events: deps.events,
    connections: deps.connections,
    connectionService: deps.connectionService,
    idps: deps.idps,
    secretBox: deps.secretBox,
    logoutDoneUrl: `${config.publicUrl}/api/sso/logout/done`,
    log: deps.log,
  });
  return { logout, backchannelLogout, logoutTokenJtis };
}

/** Verified domains, a setup link's holder's own, and "is there SSO for this email?" (contract v4). */
export function createDomains(
  config: Pick<Config, 'dnsServers'>,
  deps: {
    pool: pg.Pool;
    tenantRepo: TenantRepo;
    configCache: Pick<ConfigCache, 'apps' | 'tenants' | 'connections'>;
    events: Events;
    registry: Registry;
    announce: () => void;
    changes: Pick<ChangeLog, 'record'>;
    log: Pick<Logger, 'warn' | 'info'>;
  },
) {
  const repo = new DomainRepo(deps.pool);
  const dns = new DnsTxt(config.dnsServers);
  // Domains written with a tenant are claims too: checked against the same rules.
  const tenants = new TenantService(deps.tenantRepo, deps.announce, repo);
  const domains = new DomainService({ tenants, repo, dns, events: deps.events, announce: deps.announce });
  return {
    tenants,
    domains,
    setupLinkDomains: new SetupLinkDomains({ domains, changes: deps.changes, log: deps.log }),
    discovery: new DiscoveryService(deps.configCache),
    domainRecheck: new DomainRecheck({ repo, dns, ...deps }),
  };
}
