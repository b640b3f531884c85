import { sign } from 'node:crypto';
import { promisify } from 'node:util';
import * as client from 'openid-client';
import type { BrokerKey, BrokerKeys } from '../config/broker-keys.js';
import { randomToken } from '../crypto/tokens.js';
import { BrokerError } from '../errors/broker-error.js';
import type { IdpConnection } from './idp.js';

const signAsync = promisify(sign);
const ASSERTION_LIFETIME_SECONDS = 60;
const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9) as openid-client client
 * authentication: a fresh assertion per token request, RS256 by the broker key, header
 * `kid` plus `x5t#S256` and `x5t` when the key has a certificate (Entra ID finds keys by
 * thumbprint); `iss` = `sub` = the client id, `aud` the single value the IdP wants, 60-second
 * lifetime, a 128-bit `jti`. Signed with node:crypto off the event loop, not WebCrypto.
 */
export function privateKeyJwt(key: BrokerKey, audience: string): client.ClientAuth {
  const header = b64json({
    alg: 'RS256',
    kid: key.kid,
    ...(key.x5tS256 && { 'x5t#S256': key.x5tS256 }),
    ...(key.x5t && { x5t: key.x5t }),
  });
  return async (_as, clientMetadata, body) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = b64json({
      iss: clientMetadata.client_id,
      sub: clientMetadata.client_id,
      aud: audience,
      jti: randomToken(16),
      iat: now,
      exp: now + ASSERTION_LIFETIME_SECONDS,
    });
    const input = `${header}.${payload}`;
    const signature = await signAsync('sha256', Buffer.from(input), key.privateKey);
    body.set('client_id', clientMetadata.client_id);
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    body.set('client_assertion', `${input}.${signature.toString('base64url')}`);
  };
}

/**
 * The token-endpoint client authentication a connection is configured with: its secret in the
 * form body (`client_secret_post`), or an assertion signed by the broker key it pins, else the
 * active one (`private_key_jwt`). The secret is decrypted here, when a configuration is built.
 */
export function clientAuthFor(
  connection: Pick<IdpConnection, 'tokenEndpointAuthMethod' | 'clientSecret' | 'signingKeyId' | 'assertionAudience'>,
  metadata: Pick<client.ServerMetadata, 'issuer' | 'token_endpoint'>,
  keys: Pick<BrokerKeys, 'keys' | 'activeKid'>,
): client.ClientAuth {
  if (connection.tokenEndpointAuthMethod === 'client_secret_post') {
    const secret = connection.clientSecret();
    if (!secret) throw new BrokerError('idp_error', { logMessage: 'connection has no client secret' });
    return client.ClientSecretPost(secret);
  }
  const kid = connection.signingKeyId ?? keys.activeKid;
  const key = kid === undefined ? undefined : keys.keys.get(kid);
  if (!key) throw new BrokerError('idp_error', { logMessage: `broker signing key ${kid ?? '(none)'} is not loaded` });
  // RFC 7523 §3: aud identifies the authorization server; the token endpoint URL is the
  // value every IdP accepts, the issuer only some (Auth0 wants it).
  const audience = connection.assertionAudience === 'issuer' ? metadata.issuer : metadata.token_endpoint;
  // Discovery without a token endpoint never gets this far (idp-metadata-rules.ts).
  if (audience === undefined) throw new BrokerError('idp_error', { logMessage: 'the IdP names no token endpoint' });
  return privateKeyJwt(key, audience);
}
