import { CompactSign, SignJWT, exportJWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { serveWithSignIn } from '../../scripts/demo/demo-idp.js';
import type { PublicJwk } from '../../src/config/broker-keys.js';
import { freePort } from '../../src/config/local.js';
import { testRsaKey } from './test-keys.js';

export interface IdpAccount {
  sub: string;
  claims: Record<string, unknown>;
}

export interface TestIdp {
  issuer: string;
  provider: Provider;
  /** client_secret_post client */
  secretClient: { clientId: string; clientSecret: string };
  /** private_key_jwt client, registered with the broker's public keys */
  jwtClient: { clientId: string };
  /** Every client_assertion the token endpoint received (decoded header and payload). */
  assertions: { header: Record<string, unknown>; payload: Record<string, unknown> }[];
  /** How many times each path was requested (discovery, JWKS, token, …). */
  requests: Map<string, number>;
  /** Token endpoint requests: form body and Authorization header. */
  tokenRequests: { form: URLSearchParams; authorization: string | undefined }[];
  /** With `strictRedirectUris`: registers a connection's redirect URI, as its IdP engineer would. */
  registerRedirectUri(uri: string): void;
  /**
   * Client-secret rotation as Entra ID or Okta allow it: the secret client accepts a second
   * secret, then its first one can be retired.
   */
  secrets: { add(secret: string): void; retire(secret: string): void };
  /**
   * With `backchannelLogout`: registers a connection's back-channel logout URI for a client, as
   * its IdP engineer would; the IdP then posts logout tokens there when a learner signs out.
   */
  registerBackchannelLogoutUri(clientId: string, uri: string): Promise<void>;
  /** Signs a JWT with the IdP's own key (kid idp-key-1), as it signs ID and logout tokens. */
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** Signs any bytes (not necessarily a JSON claims set) with the same key, as a compact JWS. */
  signBytes(payload: Uint8Array): Promise<string>;
}

interface TestLike {
  teardown(fn: () => unknown): void;
}

function decodeJwtPart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * A real OpenID provider (oidc-provider, OpenID Certified) on localhost: PKCE required, one
 * client per token-endpoint auth method, and a sign-in form at /interaction/:uid that signs
 * in whichever account's `login` is submitted (consent granted with it).
 */
export async function startIdp(
  t: TestLike,
  /** `redirectUri`: the broker's callback base (PUBLIC_URL/api/sso/callback); any connection's below it is accepted. */
  options: {
    redirectUri: string;
    brokerJwks: { keys: PublicJwk[] };
    accounts: IdpAccount[];
    config?: Partial<Configuration>;
    strictRedirectUris?: boolean;
    /** More brokers' callback bases it accepts (replicas with their own PUBLIC_URL, in fault tests). */
    otherBrokers?: string[];
    /** Behave as the many IdPs without RFC 9207 (Entra ID, Google): no `iss` in authorization responses, none advertised. */
    withoutResponseIssuer?: boolean;
    /**
     * The authentication context classes it can sign users in with (advertised as
     * `acr_values_supported`), weakest first: a sign-in uses the first of the request's
     * `acr_values` it supports, else the first here, as an IdP that steps up on demand would.
     * `amr` says how: `['pwd']`, plus `'mfa'` for any class but the first.
     */
    acrValues?: string[];
    /**
     * OpenID Connect Back-Channel Logout 1.0 (oidc-provider's backchannelLogout), with `sid`
     * required: ID tokens carry `sid`, and RP-initiated logout at the IdP posts logout tokens.
     */
    backchannelLogout?: boolean;
  },
): Promise<TestIdp> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const privateKey = await testRsaKey();
  const signingJwk = { ...(await exportJWK(privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const accounts = new Map(options.accounts.map((a) => [a.sub, a]));
  const byLogin = new Map(
    options.accounts.map((a) => [String(a.claims.email ?? a.claims.preferred_username ?? a.sub), a]),
  );
  const secretClient = {
    clientId: 'broker-secret-post',
    clientSecret: 'a-very-long-client-secret-for-tests-0123456789',
  };
  const jwtClient = { clientId: 'broker-private-key-jwt' };

  const configuration: Configuration = {
    clients: [
      {
        client_id: secretClient.clientId,
        client_secret: secretClient.clientSecret,
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.redirectUri.replace('/api/sso/callback', '/api/sso/logout/done')],
        token_endpoint_auth_method: 'client_secret_post',
        response_types: ['code'],
        grant_types: ['authorization_code'],
        ...(options.backchannelLogout && { backchannel_logout_session_required: true }),
      },
      {
        client_id: jwtClient.clientId,
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.redirectUri.replace('/api/sso/callback', '/api/sso/logout/done')],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: options.brokerJwks as never,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        ...(options.backchannelLogout && { backchannel_logout_session_required: true }),
      },
    ],
    jwks: { keys: [signingJwk as never] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      ...(options.backchannelLogout && { backchannelLogout: { enabled: true } }),
    },
    // Claims in the ID token itself, as most enterprise IdPs send them.
    conformIdTokenClaims: false,
    claims: {
      // amr only where sign-ins say how (acrValues): other tests' tokens stay as they were.
      openid: ['sub', ...(options.acrValues ? ['amr'] : [])],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'groups'],
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-idp-cookie-key-0123456789'] },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account.claims, sub }) };
    },
    ...(options.acrValues && { acrValues: options.acrValues }),
    // oidc-provider refuses to post logout tokens to special-use addresses (SSRF protection);
    // the broker under test listens on loopback, so its posts go out without that guard.
    ...(options.backchannelLogout && {
      fetch: (url: Parameters<typeof fetch>[0], init?: RequestInit) => {
        const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
        return fetch(url, rest);
      },
    }),
    ...options.config,
  };
  const provider = new Provider(issuer, configuration);
  // Every connection has its own redirect URI below the broker's callback base, which an IdP
  // engineer registers. This one IdP stands for many tenants' IdPs, so by default it accepts
  // any `<base>/<connection id>` (and the base, which the broker no longer sends); with
  // `strictRedirectUris` only those registered with registerRedirectUri(), as a real IdP would.
  const base = options.redirectUri;
  const bases = [base, ...(options.otherBrokers ?? [])];
  const registered = new Set<string>();
  const below = (value: string, b: string) =>
    value === b || (value.startsWith(`${b}/`) && !value.slice(b.length + 1).includes('/') && !value.includes('?'));
  const allowed = (value: string) =>
    options.strictRedirectUris ? registered.has(value) : bases.some((b) => below(value, b));
  provider.Client.prototype.redirectUriAllowed = (value: string) => allowed(value);
  const addedSecrets = new Set<string>();
  const retiredSecrets = new Set<string>();
  const compareClientSecret = provider.Client.prototype.compareClientSecret;
  provider.Client.prototype.compareClientSecret = async function (this: InstanceType<Provider['Client']>, actual) {
    if (this.clientId === secretClient.clientId && retiredSecrets.has(actual)) return false;
    if (this.clientId === secretClient.clientId && addedSecrets.has(actual)) return true;
    return compareClientSecret.call(this, actual);
  };
  const assertions: TestIdp['assertions'] = [];
  const tokenRequests: TestIdp['tokenRequests'] = [];
  const requests = new Map<string, number>();
  if (options.withoutResponseIssuer) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' && ctx.body && typeof ctx.body === 'object') {
        delete (ctx.body as Record<string, unknown>).authorization_response_iss_parameter_supported;
      }
      const location = ctx.response.get('location');
      if (location && location.startsWith(base)) {
        const url = new URL(location);
        url.searchParams.delete('iss');
        ctx.response.set('location', url.href);
      }
    });
  }
  // Record what the broker sent to the token endpoint, as the provider parsed it.
  provider.use(async (ctx, next) => {
    requests.set(ctx.path, (requests.get(ctx.path) ?? 0) + 1);
    await next();
    if (ctx.path !== '/token' || ctx.method !== 'POST') return;
    const body = (ctx.oidc?.body ?? {}) as Record<string, string>;
    tokenRequests.push({ form: new URLSearchParams(body), authorization: ctx.get('authorization') || undefined });
    if (typeof body.client_assertion === 'string') {
      const [header, payload] = body.client_assertion.split('.');
      assertions.push({ header: decodeJwtPart(header), payload: decodeJwtPart(payload) });
    }
  });
  const close = await serveWithSignIn(provider, {
    port,
    signInPage: (uid) =>
      `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}/login"><label>Email <input name="login"></label><button>Sign in</button></form>`,
    signIn: (form, _uid, params) => {
      const account = byLogin.get(form.get('login') ?? '');
      if (!account) return { deny: 'unknown user' };
      const supported = options.acrValues;
      if (!supported?.length) return { accountId: account.sub };
      const asked = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
      const acr = asked.find((value) => supported.includes(value)) ?? supported[0]!;
      return { accountId: account.sub, acr, amr: acr === supported[0] ? ['pwd'] : ['pwd', 'mfa'] };
    },
  });
  t.teardown(close);
  return {
    issuer,
    provider,
    secretClient,
    jwtClient,
    assertions,
    tokenRequests,
    requests,
    registerRedirectUri: (uri) => void registered.add(uri),
    async registerBackchannelLogoutUri(clientId, uri) {
      // Static clients are built once and cached; the URI is theirs from now on.
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      (client as unknown as { backchannelLogoutUri: string }).backchannelLogoutUri = uri;
    },
    signBytes: (payload) =>
      new CompactSign(payload).setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1' }).sign(privateKey),
    sign: (payload, header = {}) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1', ...header }).sign(privateKey),
    secrets: { add: (secret) => void addedSecrets.add(secret), retire: (secret) => void retiredSecrets.add(secret) },
  };
}
