import type * as jose from 'jose';
import type * as client from 'openid-client';

/** What the OIDC layer needs to know of a connection (secrets already decrypted). */
export interface IdpConnection {
  id: string;
  issuer: string;
  discoveryUrl: string | null;
  clientId: string;
  /** Decrypted only when the configuration is (re)built, not on every login. */
  clientSecret: () => string | undefined;
  tokenEndpointAuthMethod: 'client_secret_post' | 'private_key_jwt';
  signingKeyId: string | null;
  assertionAudience: 'token_endpoint' | 'issuer';
  /** With an issuer containing `{tenantid}` (Entra ID multi-tenant): the accepted `tid`s, or ["*"]. */
  allowedTenantIds: string[];
  /** Changes whenever the connection does: a new version discards the cached configuration. */
  version: number;
  /** Where the registry caches it; the connection id unless these are a draft's settings under test. */
  cacheKey?: string;
}

/** What a login needs of an IdP: openid-client's configuration and the IdP's signing keys. */
export interface Idp {
  configuration: client.Configuration;
  /**
   * The IdP's JWKS (jose): fetched on first use, cached, refetched when a token names an
   * unknown `kid` (key rotation) but at most once per cooldown, and every candidate key is
   * tried when a token has no `kid`.
   */
  keys: ReturnType<typeof jose.createRemoteJWKSet>;
  clockToleranceSeconds: number;
  /** Whether discovery names a userinfo endpoint. */
  hasUserinfo: boolean;
  /** Called when the keys could not be refreshed and the cached copy was used instead. */
  onStaleKeys?: (reason: string) => void;
  /** Set when the issuer is a template (`{tenantid}`): see entra-tenant-issuer.ts. */
  issuerTemplate?: {
    template: string;
    allowedTenantIds: string[];
    /** The connection's client authentication, as `configuration` uses it. */
    clientAuth: client.ClientAuth;
    /** Whether the IdP's endpoints use plain http (listed loopback only). */
    insecure: boolean;
  };
}
