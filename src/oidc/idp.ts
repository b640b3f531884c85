import type * as jose from 'jose';
import type * as client from 'openid-client';
import type { FastPathKeys } from './id-token-fast-path.js';

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
   * The discovery document `configuration` was built from, read-only. Logins read it here:
   * `configuration.serverMetadata()` deep-copies it on every call (28 µs a login, bench profile).
   */
  metadata: Readonly<client.ServerMetadata>;
  /**
   * The IdP's JWKS: fetched on first use, cached, refetched when a token names an unknown
   * `kid` (key rotation) but at most once per cooldown, and every candidate key is tried when
   * a token has no `kid` (id-token-signature.ts).
   */
  keys: IdpKeys;
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

/**
 * An IdP's signing keys, kept on its registry entry. jose's remote set only fetches (with its
 * timeout, cache age and cooldown); each copy it fetches is prepared once, here, and every
 * login verifies against the prepared copy (id-token-signature.ts).
 */
export interface IdpKeys {
  /** jose's remote JWKS: `reload()` fetches; `fresh`, `coolingDown` and `jwks()` describe its copy. */
  remote: ReturnType<typeof jose.createRemoteJWKSet>;
  /** The copy last fetched, prepared; undefined until the first fetch succeeds. */
  copy: KeyCopy | undefined;
  /** The fetch under way, shared by the logins that wait for it. */
  fetching: Promise<KeyCopy> | undefined;
}

/** One fetched JWKS, as both ways of verifying use it: built once per fetch, never per login. */
export interface KeyCopy {
  /** jose's view: picks the candidate keys for a token and imports each once. */
  jose: ReturnType<typeof jose.createLocalJWKSet>;
  /** The shortcut's view (id-token-fast-path.ts). */
  fast: FastPathKeys;
}
