import type pg from 'pg';
import type { Config } from './config/config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { ConnectionService } from './domain/connections/connection.service.js';
import { EventFeed } from './domain/events/event-feed.service.js';
import { EventLogRepo } from './domain/events/event-log.repo.js';
import { Events } from './domain/events/events.service.js';
import type { ConfigCache } from './domain/live-config/config-cache.js';
import { BackchannelLogoutService } from './domain/sessions/backchannel-logout.service.js';
import { LogoutTokenJtiRepo } from './domain/sessions/logout-token-jti.repo.js';
import { LogoutService } from './domain/sessions/logout.service.js';
import { SessionRepo } from './domain/sessions/session.repo.js';
import type { IdpRegistry } from './oidc/idp-registry.js';

/**
 * Contract v4, "After sign-in", wired: events (rows before anything reports them done) and the
 * sessions that apps (RP-initiated logout) and IdPs (back-channel logout) end.
 */
export function createEvents(pool: pg.Pool) {
  const eventLog = new EventLogRepo(pool);
  const events = new Events({ repo: eventLog });
  return { eventLog, events, eventFeed: new EventFeed(eventLog) };
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
