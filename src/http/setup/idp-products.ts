/**
 * The IdP products an IdP engineer may pick on a setup page, each with what differs from the
 * generic setup: our own markup (links and code samples), written here, never data from a
 * request. The public setup page (/api/sso/setup) lists the same notes.
 */
export interface IdpProduct {
  key: string;
  name: string;
  /** HTML, ours. */
  notes: string;
  /** Auth methods the product supports. */
  methods: readonly ('client_secret_post' | 'private_key_jwt')[];
  /** How its console shows a certificate's thumbprint. */
  thumbprint: 'sha1-hex' | 'sha256-hex' | 'x5t#S256';
  /** HTML, ours: where (or whether) it registers a back-channel logout URI. */
  backchannelLogout: string;
}

const BOTH = ['client_secret_post', 'private_key_jwt'] as const;

export const IDP_PRODUCTS: readonly IdpProduct[] = [
  {
    key: 'entra',
    name: 'Microsoft Entra ID',
    methods: BOTH,
    thumbprint: 'sha1-hex',
    backchannelLogout:
      'Entra ID does not send OpenID Connect back-channel logout tokens (it offers a front-channel ' +
      'logout URL only): leave this out; apps end their sessions themselves.',
    notes:
      'App registration → Authentication: add the redirect URI under <em>Web</em>. Certificates &amp; ' +
      'secrets: a client secret (client_secret_post) or upload the broker\u2019s certificate below ' +
      '(private_key_jwt; Entra identifies keys by thumbprint). Issuer ' +
      '<code>https://login.microsoftonline.com/&lt;tenant-id&gt;/v2.0</code>; for a multi-tenant app use ' +
      '<code>https://login.microsoftonline.com/{tenantid}/v2.0</code> with <code>allowedTenantIds</code>. ' +
      'Set <code>subjectClaim: "oid"</code> for a stable user id; without the optional <code>email</code> ' +
      'claim the broker asks userinfo for it, else the login is <code>preferred_username</code>.',
  },
  {
    key: 'okta',
    name: 'Okta',
    methods: BOTH,
    thumbprint: 'x5t#S256',
    backchannelLogout:
      'Okta app integrations do not send OpenID Connect back-channel logout tokens: leave this out; ' +
      'apps end their sessions themselves.',
    notes:
      'Applications → Create App Integration → OIDC, Web Application. Issuer is your authorization server, ' +
      'e.g. <code>https://acme.okta.com</code> or <code>https://acme.okta.com/oauth2/default</code>. For ' +
      'private_key_jwt choose “Public key / Private key” and paste the JWKS URL or the key below. Groups: ' +
      'add a <code>groups</code> claim and request the <code>groups</code> scope.',
  },
  {
    key: 'google',
    name: 'Google Workspace',
    methods: ['client_secret_post'] as const,
    thumbprint: 'sha256-hex',
    backchannelLogout:
      'Google does not send OpenID Connect back-channel logout tokens: leave this out; apps end their ' +
      'sessions themselves.',
    notes:
      'Google Cloud console → Credentials → OAuth client ID, Web application. Issuer ' +
      '<code>https://accounts.google.com</code>; Google supports client_secret_post only. Restrict sign-ins' +
      ' to your domain on the tenant (<code>restrictToDomains</code>); Google sends ' +
      '<code>email_verified</code> and <code>hd</code>.',
  },
  {
    key: 'auth0',
    name: 'Auth0',
    methods: BOTH,
    thumbprint: 'x5t#S256',
    backchannelLogout:
      'Application → Settings → <em>OpenID Connect Back-Channel Logout</em>: enter it as the ' +
      'Back-Channel Logout URI (Auth0 includes <code>sid</code>).',
    notes:
      'Applications → Regular Web Application. The issuer ends with a slash: ' +
      '<code>https://acme.eu.auth0.com/</code> — enter it exactly so. For private_key_jwt use “Private Key ' +
      'JWT” with the broker\u2019s public key; Auth0 wants the assertion audience to be the issuer ' +
      '(connection setting <code>assertionAudience: "issuer"</code>).',
  },
  {
    key: 'ping',
    name: 'Ping Identity (PingOne)',
    methods: BOTH,
    thumbprint: 'sha1-hex',
    backchannelLogout:
      'PingFederate: on the OAuth client, enter it as the Back-Channel Logout URI. Where your PingOne ' +
      'environment offers back-channel logout, enter it there likewise; otherwise leave it out.',
    notes:
      'Applications → OIDC Web App. Token endpoint authentication: Client Secret Post, or Private Key JWT ' +
      'with the JWKS URL. Issuer ' +
      '<code>https://auth.pingone.&lt;region&gt;/&lt;environment-id&gt;/as</code>. PingOne sends the email ' +
      'from userinfo, which the broker calls when the ID token has none.',
  },
  {
    key: 'onelogin',
    name: 'OneLogin',
    methods: BOTH,
    thumbprint: 'sha256-hex',
    backchannelLogout:
      'Where your OneLogin account offers OpenID Connect back-channel logout, enter it there; ' +
      'otherwise leave it out.',
    notes:
      'Applications → OpenId Connect (OIDC). SSO tab: Token Endpoint authentication <em>POST</em>. Issuer ' +
      '<code>https://&lt;subdomain&gt;.onelogin.com/oidc/2</code>. Groups with the <code>groups</code> ' +
      'scope.',
  },
  {
    key: 'keycloak',
    name: 'Keycloak',
    methods: BOTH,
    thumbprint: 'x5t#S256',
    backchannelLogout:
      'Client → Settings → <em>Logout settings</em>: enter it as the Backchannel logout URL and turn ' +
      '<em>Backchannel logout session required</em> on.',
    notes:
      'Clients → Create client, OpenID Connect, Client authentication on. The issuer carries the realm: ' +
      '<code>https://sso.example.com/realms/acme</code>. For private_key_jwt choose “Signed JWT” with RS256' +
      ' and the JWKS URL. Realm roles arrive as <code>realm_access.roles</code>: set ' +
      '<code>claimMapping.groups</code> to it.',
  },
  {
    key: 'other',
    name: 'Another OpenID Connect IdP',
    methods: BOTH,
    thumbprint: 'sha256-hex',
    backchannelLogout:
      'If it supports OpenID Connect Back-Channel Logout 1.0, register it as the client’s ' +
      '<code>backchannel_logout_uri</code> with <code>backchannel_logout_session_required</code>; ' +
      'otherwise leave it out.',
    notes:
      'Create a confidential OpenID Connect client for the authorization code flow with PKCE (S256). The ' +
      'issuer is the <code>issuer</code> of its discovery document, character for character (a trailing ' +
      'slash counts).',
  },
];

export function idpProduct(key: unknown): IdpProduct | undefined {
  return IDP_PRODUCTS.find((product) => product.key === key);
}
