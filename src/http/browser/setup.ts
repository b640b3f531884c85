import type { BrokerKeys } from '../../config/broker-keys.js';
import type { Connection } from '../../domain/connections/connection.repo.js';
import { backchannelLogoutUriFor, redirectUriFor } from '../../domain/connections/redirect-uri.js';
import { html, trusted } from './html.js';
import { renderPage } from './pages.js';
import { IDP_PRODUCTS } from '../setup/idp-products.js';

/**
 * What an IdP engineer registers for this broker (contract: GET /api/sso/setup), and with
 * `?connection=<id>` that connection's exact redirect URI, client id and auth method (never a
 * secret: the page is public, and the id alone grants nothing).
 */
export function setupDocument(
  deps: { keys: BrokerKeys; publicUrl: string; callbackUrl: string },
  connection?: Connection,
) {
  return {
    redirect_uri_template: `${deps.callbackUrl}/{connection}`,
    ...(connection && {
      connection: connection.id,
      redirect_uri: redirectUriFor(deps.callbackUrl, connection.id),
      backchannel_logout_uri: backchannelLogoutUriFor(deps.callbackUrl, connection.id),
      backchannel_logout_session_required: true,
      client_id: connection.clientId,
      token_endpoint_auth_method: connection.tokenEndpointAuthMethod,
    }),
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
    signing_keys: [...deps.keys.keys.values()].map((key) => ({
      kid: key.kid,
      active: key.kid === deps.keys.activeKid,
      public_key_pem: key.publicKeyPem,
      ...(key.certificatePem && {
        certificate_url: `${deps.publicUrl}/api/sso/setup/keys/${encodeURIComponent(key.kid)}.crt`,
        certificate_not_after: key.certificateNotAfter,
        x5t_s256: key.x5tS256,
        x5t: key.x5t,
      }),
    })),
  };
}

/** Entra ID lists a certificate's SHA-1 thumbprint as upper-case hex. */
export function hexThumbprint(x5t: string): string {
  return Buffer.from(x5t, 'base64url').toString('hex').toUpperCase();
}

export function renderSetupPage(doc: ReturnType<typeof setupDocument>): string {
  const keys = doc.signing_keys.length
    ? doc.signing_keys.map((k) => {
        const certificate =
          k.certificate_url &&
          html`<p><a href="${k.certificate_url}" download>Download the certificate (${k.kid}.crt)</a>, self-signed,
valid until ${k.certificate_not_after}. SHA-256 thumbprint (<code>x5t#S256</code>) <code>${k.x5t_s256}</code>;
SHA-1 thumbprint as hex, as Entra ID shows it: <code>${hexThumbprint(k.x5t ?? '')}</code>.</p>`;
        const role = k.active ? ' (active: signs assertions)' : ' (published; signs only for connections that pin it)';
        return html`<h3>Key <code>${k.kid}</code>${role}</h3>${certificate}<pre>${k.public_key_pem}</pre>\n`;
      })
    : html`<p>No broker key yet: the operator runs <code>npm run keys:generate</code>.</p>`;
  // The notes are our own markup (links and code samples), written in this file.
  const notes = IDP_PRODUCTS.map((p) => html`<h3>${p.name}</h3><p>${trusted(p.notes)}</p>\n`);
  const redirectUri = doc.redirect_uri
    ? html`<tr><th scope="row">Redirect URI</th>
<td><code>${doc.redirect_uri}</code> (this connection’s own; register exactly this)</td></tr>
<tr><th scope="row">Client id</th>
<td><code>${doc.client_id}</code>, authenticating with <code>${doc.token_endpoint_auth_method}</code></td></tr>
<tr><th scope="row">Back-channel logout URI (optional)</th>
<td><code>${doc.backchannel_logout_uri}</code>, with the session (<code>sid</code>) included, where your IdP offers
OpenID Connect Back-Channel Logout: a learner who signs out there is signed out of every app</td></tr>`
    : html`<tr><th scope="row">Redirect URI</th>
<td><code>${doc.redirect_uri_template}</code>: every connection has its own. Ask the operator for your connection’s
setup link (<code>?connection=&lt;id&gt;</code>), which shows the exact URI.</td></tr>`;
  return renderPage(
    'Register this SSO broker with your identity provider',
    html`<h1>Register this SSO broker with your identity provider</h1>
<p>Create an OpenID Connect confidential client (authorization code flow with PKCE S256) and register:</p>
<table>
${redirectUri}
<tr><th scope="row">Post-logout redirect URI</th><td><code>${doc.post_logout_redirect_uri}</code></td></tr>
<tr><th scope="row">Initiate login URI (optional)</th><td><code>${doc.initiate_login_uri}</code></td></tr>
<tr><th scope="row">Scopes</th><td><code>openid email profile</code></td></tr>
<tr><th scope="row">ID token</th><td>signed RS256, with <code>nonce</code>, <code>sub</code> (or <code>oid</code>)
and <code>email</code> (or <code>preferred_username</code>)</td></tr>
</table>
<h2>Client authentication: pick one</h2>
<p><strong>client_secret_post</strong>: the IdP issues a client secret; the broker sends it in the token request body.
Hand back the issuer, discovery URL, client id and secret.</p>
<p><strong>private_key_jwt</strong> (RS256): the IdP trusts the broker's key — give it the JWKS URL
<code>${doc.jwks_uri}</code>, the public key or the certificate below. The broker signs each assertion with
<code>iss</code> = <code>sub</code> = your client id, <code>aud</code> = your token endpoint (or your issuer, when the
operator sets it so), a 60-second lifetime and a fresh <code>jti</code>; its header names the key by <code>kid</code>
and, when the key has a certificate, by <code>x5t#S256</code> and <code>x5t</code>. Hand back the issuer, discovery URL
and client id.</p>
${keys}
<h2>Notes by identity provider</h2>
${notes}
<p>Then ask the operator for a test-login link: it runs a real sign-in and shows every check.</p>`,
  );
}
