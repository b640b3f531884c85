import type { BrokerKeys } from '../../config/broker-keys.js';
import { escapeHtml, renderPage } from './pages.js';

/** What an IdP engineer registers for this broker (contract: GET /api/sso/setup). */
export function setupDocument(deps: { keys: BrokerKeys; publicUrl: string; callbackUrl: string }) {
  return {
    redirect_uri: deps.callbackUrl,
    jwks_uri: `${deps.publicUrl}/.well-known/jwks.json`,
    initiate_login_uri: `${deps.publicUrl}/api/sso/initiate`,
    post_logout_redirect_uri: `${deps.publicUrl}/api/sso/logout/done`,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    code_challenge_method: 'S256',
    token_endpoint_auth_methods: ['client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg: 'RS256',
    id_token_signed_response_alg: 'RS256',
    scopes: ['openid', 'email', 'profile'],
    required_id_token_claims: ['nonce', 'sub (or oid for Entra ID)', 'email (or preferred_username)'],
    signing_keys: [...deps.keys.keys.values()].map((key) => ({ kid: key.kid, active: key.kid === deps.keys.activeKid })),
  };
}

export function renderSetupPage(doc: ReturnType<typeof setupDocument>): string {
  const keys = doc.signing_keys.length
    ? doc.signing_keys.map((k) => `<code>${escapeHtml(k.kid)}</code>${k.active ? ' (active)' : ''}`).join(', ')
    : 'none yet (the operator runs <code>npm run keys:generate</code>)';
  return renderPage(
    'Register this SSO broker with your identity provider',
    `<h1>Register this SSO broker with your identity provider</h1>
<p>Create an OpenID Connect confidential client (authorization code flow, PKCE S256) and register:</p>
<table>
<tr><th scope="row">Redirect URI</th><td><code>${escapeHtml(doc.redirect_uri)}</code></td></tr>
<tr><th scope="row">Token endpoint authentication</th><td><code>client_secret_post</code>, or <code>private_key_jwt</code> signed with RS256</td></tr>
<tr><th scope="row">Broker JWKS (private_key_jwt)</th><td><code>${escapeHtml(doc.jwks_uri)}</code>; keys: ${keys}</td></tr>
<tr><th scope="row">ID token</th><td>signed RS256, with <code>nonce</code>, <code>sub</code> (or <code>oid</code>) and <code>email</code> (or <code>preferred_username</code>)</td></tr>
<tr><th scope="row">Initiate login URI (optional, for IdP-initiated sign-in)</th><td><code>${escapeHtml(doc.initiate_login_uri)}</code></td></tr>
<tr><th scope="row">Post-logout redirect URI (for sign-out)</th><td><code>${escapeHtml(doc.post_logout_redirect_uri)}</code></td></tr>
<tr><th scope="row">Scopes</th><td><code>openid email profile</code></td></tr>
</table>
<p>Then hand back the issuer, discovery URL and client id (and, for client_secret_post, the client secret).</p>`,
  );
}
