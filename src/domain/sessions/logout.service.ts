import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/secret-box.js';
import { BrokerError } from '../../errors/broker-error.js';
import { tenantOfIssuer } from '../../oidc/entra-tenant-issuer.js';
import type { IdpRegistry } from '../../oidc/idp-registry.js';
import type { AppRepo } from '../apps/app.repo.js';
import type { ConnectionRepo } from '../connections/connection.repo.js';
import type { ConnectionService } from '../connections/connection.service.js';
import { SEALED } from '../../crypto/purposes.js';
import type { Events } from '../events/events.service.js';
import { sessionEnded } from './session-ended.js';
import type { SessionRepo } from './session.repo.js';
import { parseQuery } from '../validation.js';
import { assertReturnToRegistered } from '../login/start/assert-return-to-registered.js';

export const logoutQuerySchema = z.object({
  app: z.string().min(1).max(200),
  session: z.string().min(1).max(200),
  post_logout_redirect_uri: z.string().min(1).max(2048),
});

const STATE_TTL_MS = 10 * 60 * 1000;
const SESSION_ID = /^[A-Za-z0-9_-]+$/;

export interface LogoutDeps {
  apps: Pick<AppRepo, 'findById'>;
  sessions: Pick<SessionRepo, 'end'>;
  events: Pick<Events, 'emit'>;
  connections: Pick<ConnectionRepo, 'findById'>;
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: IdpRegistry;
  secretBox: SecretBox;
  /** The broker's own post-logout URL, registered at IdPs: PUBLIC_URL/api/sso/logout/done. */
  logoutDoneUrl: string;
  log: { warn(obj: object, msg: string): void };
}

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), on behalf of an app: the app's
 * session ends here at once; the browser then visits the IdP's end_session_endpoint with
 * id_token_hint, client_id and the broker's own post-logout URL, and comes back through it to
 * the app's registered URL. An IdP without end_session_endpoint (or unreachable) is skipped,
 * and so is the IdP of a session it already ended (back-channel logout). The app hears of the
 * ended session as a session.ended event (reason rp_logout), stored with the session's end.
 */
export class LogoutService {
  constructor(private readonly deps: LogoutDeps) {}

  /** `GET /api/sso/logout`: until the app, its URL and its session are verified, a page and no redirect. */
  async start(query: unknown): Promise<string> {
    const q = parseQuery(logoutQuerySchema, query);
    const app = await this.deps.apps.findById(q.app);
    if (!app) throw new BrokerError('unknown_app');
    assertReturnToRegistered(app.returnUrls, q.post_logout_redirect_uri);
    // Session ids are base64url tokens; anything else names no session (and a NUL would not
    // even reach PostgreSQL as text).
    const session = SESSION_ID.test(q.session)
      ? await this.deps.events.emit(async (sql) => {
          const ended = await this.deps.sessions.end(sql, q.session, app.id);
          return { result: ended, events: ended && !('endedByIdp' in ended) ? [sessionEnded(ended, 'rp_logout')] : [] };
        })
      : undefined;
    if (!session) throw new BrokerError('unknown_session');
    // The IdP ended this session already (back-channel logout): nothing to end there.
    if ('endedByIdp' in session) return q.post_logout_redirect_uri;

    const idToken = this.deps.secretBox.open(session.idTokenEnc, SEALED.sessionIdToken(session.sessionId));
    const connection = await this.deps.connections.findById(session.connectionId);
    if (!connection || idToken === undefined) return q.post_logout_redirect_uri;
    if (!issuedBy(idToken, connection)) {
      // The connection moved to another IdP or client since this sign-in (a new version):
      // the session's ID token is never handed to an IdP that did not issue it.
      this.deps.log.warn({ connection: connection.id }, 'logout skipped the IdP: the connection changed since sign-in');
      return q.post_logout_redirect_uri;
    }
    let endSession: string | undefined;
    try {
      const idp = await this.deps.idps.idp(this.deps.connectionService.toIdpConnection(connection));
      endSession = idp.metadata.end_session_endpoint;
    } catch (error) {
      // Signing out must never trap the learner: without the IdP, back to the app.
      this.deps.log.warn(
        { reason: (error as Error).message, connection: connection.id },
        'logout skipped the unreachable IdP',
      );
    }
    if (!endSession) return q.post_logout_redirect_uri;
    const url = new URL(endSession);
    url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('client_id', connection.clientId);
    url.searchParams.set('post_logout_redirect_uri', this.deps.logoutDoneUrl);
    url.searchParams.set(
      'state',
      this.deps.secretBox.seal(
        JSON.stringify({ to: q.post_logout_redirect_uri, exp: Date.now() + STATE_TTL_MS }),
        SEALED.logoutState(),
      ),
    );
    return url.href;
  }

  /** `GET /api/sso/logout/done`: the IdP sends the browser back; the sealed state says where to. */
  finish(query: unknown): string {
    const state = (query as { state?: unknown } | undefined)?.state;
    const opened =
      typeof state === 'string' && state.length < 4096
        ? this.deps.secretBox.open(state, SEALED.logoutState())
        : undefined;
    if (opened === undefined)
      throw new BrokerError('invalid_state', {
        description: 'This sign-out could not be matched to one the broker started.',
      });
    const { to, exp } = JSON.parse(opened) as { to: string; exp: number };
    if (Date.now() > exp)
      throw new BrokerError('login_expired', {
        description: 'This sign-out took too long; you are signed out of the application.',
      });
    return to;
  }
}

/**
 * Whether the connection's current settings name the IdP and client that issued this ID token
 * (its `iss`, or the Entra template filled with one tenant, and its `aud`). It was validated at
 * sign-in and sealed since; only the question of who it belongs to is asked here.
 */
function issuedBy(idToken: string, connection: { issuer: string; clientId: string }): boolean {
  let claims: { iss?: unknown; aud?: unknown };
  try {
    claims = decodeJwt(idToken);
  } catch {
    return false;
  }
  const { iss, aud } = claims;
  const issuerMatches =
    typeof iss === 'string' &&
    (iss === connection.issuer ||
      (connection.issuer.includes('{tenantid}') && tenantOfIssuer(connection.issuer, iss) !== undefined));
  const audiences = Array.isArray(aud) ? aud : [aud];
  return issuerMatches && audiences.includes(connection.clientId);
}
