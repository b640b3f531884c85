import { sha256Hex } from '../../crypto/tokens.js';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import type { IdpRegistry } from '../../oidc/idp-registry.js';
import { verifyLogoutToken } from '../../oidc/logout-token.js';
import type { Connection } from '../connections/connection.repo.js';
import type { ConnectionService } from '../connections/connection.service.js';
import type { Events } from '../events/events.service.js';
import { sessionEnded } from './session-ended.js';
import type { SessionRepo } from './session.repo.js';
import type { LogoutTokenJtiRepo } from './logout-token-jti.repo.js';

export interface BackchannelLogoutDeps {
  findConnection(id: string): Promise<Connection | undefined>;
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: Pick<IdpRegistry, 'idp'>;
  sessions: Pick<SessionRepo, 'endByIdp'>;
  jtis: Pick<LogoutTokenJtiRepo, 'remember'>;
  events: Pick<Events, 'emit'>;
}

/**
 * `POST /api/sso/backchannel-logout/:connection` (OpenID Connect Back-Channel Logout 1.0): the
 * connection's IdP says a session ended there. The token is checked as §2.6 says
 * (oidc/logout-token.ts); then, in one transaction, its `jti` is recorded (a replay is refused
 * on every replica), the matching sessions end, and each becomes a session.ended event for its
 * app. Returns how many sessions ended (none is a valid answer too).
 */
export class BackchannelLogoutService {
  constructor(private readonly deps: BackchannelLogoutDeps) {}

  async logout(connectionId: string, body: unknown): Promise<number> {
    const connection = await this.deps.findConnection(connectionId);
    if (!connection) throw new BrokerError('not_found', { description: 'No such connection.' });
    const logoutToken = (body as { logout_token?: unknown } | undefined)?.logout_token;
    let idp;
    try {
      idp = await this.deps.idps.idp(this.deps.connectionService.toIdpConnection(connection));
    } catch (error) {
      if (isBrokerError(error) && error.status < 500) throw error;
      throw new BrokerError('temporarily_unavailable', {
        cause: error,
        description: 'The identity provider could not be reached to verify the logout token; send it again.',
      });
    }
    const token = await verifyLogoutToken(logoutToken, {
      idp,
      issuer: connection.issuer,
      allowedTenantIds: connection.allowedTenantIds,
      clientId: connection.clientId,
    });
    return this.deps.events.emit(async (sql) => {
      const fresh = await this.deps.jtis.remember(
        sql,
        connection.id,
        sha256Hex(token.jti),
        new Date(token.acceptableUntil),
      );
      if (!fresh)
        throw new BrokerError('invalid_request', { description: 'Logout token refused: its jti was used before.' });
      const ended = await this.deps.sessions.endByIdp(sql, connection.id, token);
      return { result: ended.length, events: ended.map((session) => sessionEnded(session, 'idp_logout')) };
    });
  }
}
