import { exchangeCode } from '../../../oidc/code-exchange.js';
import { mapIdentity } from '../../../oidc/identity.js';
import { assertClaimsSize } from '../../../oidc/identity-size.js';
import type { IdpRegistry } from '../../../oidc/idp-registry.js';
import { assertResponseIssuer } from '../../../oidc/response-issuer.js';
import type { ConnectionVersionService } from '../../connections/connection-version.service.js';
import type { ConnectionService } from '../../connections/connection.service.js';
import { redirectUriFor } from '../../connections/redirect-uri.js';
import type { ConfigCache } from '../../live-config/config-cache.js';
import { assertDomainAllowed } from '../domain-restriction.js';
import type { LoginTransaction } from '../login-transaction.js';
import { stepRunner, type Trace } from '../pipeline.js';
import { addUserinfo, userinfoWanted } from './add-userinfo.js';
import { assertAcrSatisfied } from './assert-acr.js';
import { assertAuthorizationCode } from './assert-authorization-code.js';
import { assertFreshAuthentication } from './assert-fresh-authentication.js';
import { authenticationFacts } from './authentication-facts.js';
import { loadConnection } from './load-connection.js';

export interface CallbackDeps {
  connections: Pick<ConfigCache['connections'], 'findById'>;
  tenants: Pick<ConfigCache['tenants'], 'findById'>;
  /** Test logins of one version load its settings here. */
  versions?: Pick<ConnectionVersionService, 'asConnection'>;
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: Pick<IdpRegistry, 'idp'>;
  /** PUBLIC_URL/api/sso/callback */
  callbackUrl: string;
  log: { warn(obj: object, msg: string): void };
}

/**
 * The checks of `GET /api/sso/callback/{connection}` once the browser's transaction is known
 * and belongs to that connection, in the contract's order. Real logins and test logins run
 * this same pipeline; a test login passes a `trace` and lists each step's outcome.
 * Throws the first failure as a BrokerError.
 */
export async function verifyCallback(
  deps: CallbackDeps,
  input: { tx: LoginTransaction; query: Record<string, unknown>; callbackUrl: URL },
  trace?: Trace,
) {
  const step = stepRunner(trace);
  const { tx, query, callbackUrl } = input;
  const redirectUri = redirectUriFor(deps.callbackUrl, tx.connectionId);

  const { connection, tenant } = await step(
    'connection',
    () => loadConnection(deps, tx),
    (found) => `connection ${found.connection.id} (${found.connection.tokenEndpointAuthMethod})`,
  );
  const idp = await step(
    'discovery',
    () => deps.idps.idp(deps.connectionService.toIdpConnection(connection)),
    (found) => `issuer ${found.metadata.issuer}`,
  );
  // RFC 9207 §2.4: before anything in the response is believed, its error included.
  await step(
    'response_issuer',
    () => assertResponseIssuer(idp, callbackUrl.searchParams),
    (message) => message,
  );
  await step(
    'authorization',
    () => assertAuthorizationCode(query),
    () => `the IdP redirected to this connection's redirect URI ${redirectUri} with a code`,
  );
  const result = await step(
    'token_exchange',
    () => exchangeCode(idp, callbackUrl, redirectUri, tx),
    (r) => {
      const azp = r.claims.azp === undefined ? '' : `, azp ${r.claims.azp}`;
      const audience = `aud ${JSON.stringify(r.claims.aud)}${azp}`;
      const times = `exp/iat within ${idp.clockToleranceSeconds} s`;
      return `ID token signed RS256 and valid: iss ${r.claims.iss}, ${audience}, nonce matches, ${times}`;
    },
  );
  const receivedAt = Date.now();
  const { acrHashes, maxAge, promptLogin } = tx.demands ?? {};
  if (acrHashes !== undefined) {
    await step(
      'acr',
      () => assertAcrSatisfied(result.claims, acrHashes),
      (acr) => `acr ${acr} is one of the ${acrHashes.length} ACR values asked for`,
    );
  }
  if (maxAge !== undefined || promptLogin) {
    await step(
      'freshness',
      () =>
        assertFreshAuthentication(result.claims, { maxAge, promptLogin }, { startedAt: tx.createdAt, now: receivedAt }),
      (message) => message,
    );
  }
  const withUserinfo = userinfoWanted(connection.fetchUserinfo, idp, result)
    ? await step(
        'userinfo',
        () =>
          addUserinfo(idp, result, { required: connection.fetchUserinfo, connectionId: connection.id, log: deps.log }),
        (added) => {
          const why = connection.fetchUserinfo ? 'the connection asks for it' : 'the ID token has no email';
          return added.fetched
            ? `userinfo fetched (${why}); its sub matches`
            : 'userinfo unavailable; the ID token alone names the user';
        },
      )
    : undefined;
  const claims: Record<string, unknown> = withUserinfo?.claims ?? result.claims;
  const rules = {
    subjectClaim: connection.subjectClaim,
    assumeEmailVerified: connection.assumeEmailVerified,
    claimMapping: connection.claimMapping,
  };
  const identity = await step(
    'claims',
    () => {
      // The ID token and userinfo each have their bound; together too, since both feed the ticket.
      assertClaimsSize(claims);
      return mapIdentity(claims, rules);
    },
    (id) => `user id (${connection.subjectClaim}) ${id.subject}; login ${id.login}`,
  );
  await step(
    'domain',
    () => assertDomainAllowed(tenant, identity, claims),
    (message) => message,
  );
  return { connection, tenant, result, identity, authentication: authenticationFacts(result.claims, receivedAt) };
}
