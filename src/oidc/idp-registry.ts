import * as jose from 'jose';
import { LRUCache } from 'lru-cache';
import * as client from 'openid-client';
import type { BrokerKeys } from '../config/broker-keys.js';
import { BrokerError } from '../errors/broker-error.js';
import type { Metrics } from '../observability/metrics.js';
import { boundedFetch } from './bounded-fetch.js';
import { clientAuthFor } from './client-auth.js';
import { assertDiscoveredMetadata, endpointProblems, ENDPOINT_FIELDS } from './idp-metadata-rules.js';
import { defaultDiscoveryUrl, discoveryOriginProblem, usesPlainHttp } from './idp-url.js';
import { boundedJwksFetch } from './jwks-bounds.js';
import type { IdpNetworkPolicy } from './network-policy.js';
import type { Idp, IdpConnection } from './idp.js';
import { describeUpstream } from './translate-error.js';

export interface IdpRegistryOptions {
  keys: BrokerKeys;
  /** Where IdP URLs may connect to (IDP_PRIVATE_NETWORKS); enforced on every connection. */
  networkPolicy: IdpNetworkPolicy;
  /** The fetch for IdP requests: boundedFetch under `networkPolicy` unless given (one shared by the app). */
  fetch?: typeof fetch;
  /** Seconds before a request to the IdP is abandoned. */
  timeoutSeconds: number;
  /** Allowed clock difference with the IdP for exp/iat/nbf, seconds. */
  clockToleranceSeconds: number;
  /** After a JWKS fetch, how long an unknown `kid` waits before it may trigger another. */
  jwksCooldownSeconds: number;
  /** How many connections' configurations to keep. */
  maxEntries?: number;
  metrics?: Pick<Metrics, 'idpRequestDuration' | 'idpCache'>;
  /** How long a discovery document is used before it is fetched again. */
  discoveryTtlSeconds?: number;
  /** How long a JWKS is used before it is fetched again (an unknown kid refetches sooner). */
  jwksMaxAgeSeconds?: number;
  log?: { warn(obj: object, msg: string): void };
}

/** A connection's cached IdP, the version of the connection it was built for, and when. */
interface Entry {
  version: number;
  idp: Promise<Idp>;
  at: number;
  refreshing: boolean;
}

/**
 * One entry per connection: discovery metadata, client authentication and the JWKS cache.
 * Built on first use and reused by every login until the connection changes; never
 * discovered per login. A failed discovery is not cached.
 */
export class IdpRegistry {
  /** Least recently used connections make room first (a connection id is only ever one of ours). */
  readonly #entries: LRUCache<string, Entry>;
  readonly #fetch: typeof fetch;
  readonly #options: IdpRegistryOptions;

  constructor(options: IdpRegistryOptions) {
    this.#options = options;
    this.#entries = new LRUCache<string, Entry>({ max: options.maxEntries ?? 10_000 });
    this.#fetch = options.fetch ?? boundedFetch({ policy: options.networkPolicy });
  }

  get #discoveryTtlMs(): number {
    return (this.#options.discoveryTtlSeconds ?? 3600) * 1000;
  }

  idp(connection: IdpConnection): Promise<Idp> {
    const key = connection.cacheKey ?? connection.id;
    const cached = this.#entries.get(key);
    if (cached && cached.version === connection.version) {
      this.#options.metrics?.idpCache.inc({ result: 'hit' });
      if (Date.now() - cached.at > this.#discoveryTtlMs && !cached.refreshing) this.#refresh(connection, cached);
      return cached.idp;
    }
    this.#options.metrics?.idpCache.inc({ result: 'miss' });
    const idp = this.#build(connection);
    this.#entries.set(key, { version: connection.version, idp, at: Date.now(), refreshing: false });
    idp.catch(() => {
      if (this.#entries.peek(key)?.idp === idp) this.#entries.delete(key);
    });
    return idp;
  }

  /**
   * Stale-while-revalidate: the login that notices an old entry keeps using it while a fresh
   * discovery runs; if the IdP cannot be reached, the old entry stays (and says so in the log)
   * and the refresh is tried again a minute later.
   */
  #refresh(connection: IdpConnection, entry: Entry): void {
    entry.refreshing = true;
    this.#build(connection).then(
      (fresh) => {
        const key = connection.cacheKey ?? connection.id;
        if (this.#entries.peek(key) === entry) {
          this.#entries.set(key, {
            version: entry.version,
            idp: Promise.resolve(fresh),
            at: Date.now(),
            refreshing: false,
          });
        }
      },
      (error: Error) => {
        entry.refreshing = false;
        // Due again in a minute.
        entry.at = Date.now() - this.#discoveryTtlMs + 60_000;
        this.#options.log?.warn(
          { connection: connection.id, reason: error.message },
          'IdP discovery could not be refreshed; serving the cached copy',
        );
      },
    );
  }

  forget(connectionId: string): void {
    this.#entries.delete(connectionId);
  }

  /** The bounded fetch, timed per connection and endpoint (which endpoint, from the URL). */
  #timedFetch(connectionId: string, endpointOf: (url: string) => string): typeof fetch {
    const histogram = this.#options.metrics?.idpRequestDuration;
    if (!histogram) return this.#fetch;
    return (async (url: string | URL | Request, init?: RequestInit) => {
      const end = histogram.startTimer({ connection: connectionId, endpoint: endpointOf(String(url)) });
      try {
        return await this.#fetch(url, init);
      } finally {
        end();
      }
    }) as typeof fetch;
  }

  async #build(connection: IdpConnection): Promise<Idp> {
    const discoveryUrl = connection.discoveryUrl ?? defaultDiscoveryUrl(connection.issuer);
    // Also for connections saved before the rule existed (the admin API refuses new ones).
    const originProblem = discoveryOriginProblem(connection.issuer, discoveryUrl);
    if (originProblem)
      throw new BrokerError('idp_error', { logMessage: `discovery URL ${discoveryUrl} ${originProblem}` });
    // http reaches the fetch only where the network policy allows it (listed loopback).
    const insecure = usesPlainHttp(discoveryUrl);
    let discovered: client.Configuration;
    try {
      // A full /.well-known/ URL: openid-client fetches it as given and leaves the issuer
      // comparison to us, which must be exact (no slash normalisation).
      discovered = await client.discovery(new URL(discoveryUrl), connection.clientId, undefined, undefined, {
        timeout: this.#options.timeoutSeconds,
        execute: insecure ? [client.allowInsecureRequests] : [],
        [client.customFetch]: this.#timedFetch(connection.id, () => 'discovery'),
      });
    } catch (error) {
      throw new BrokerError('idp_error', {
        description: "The identity provider's discovery document could not be fetched.",
        cause: error,
        logMessage: `discovery failed: ${describeUpstream(error)}`,
      });
    }
    // The document itself, without openid-client's helper methods, to build configurations from.
    const metadata = JSON.parse(JSON.stringify(discovered.serverMetadata())) as client.ServerMetadata;
    // The same rules as the validation report (idp-metadata-rules.ts).
    assertDiscoveredMetadata(metadata as Record<string, unknown>, connection);
    await this.#assertEndpointsAllowed(metadata);
    const needsInsecure = ENDPOINT_FIELDS.some((field) => {
      const url = metadata[field];
      return url !== undefined && usesPlainHttp(url);
    });
    const endpoints = new Map(ENDPOINT_FIELDS.map((field) => [metadata[field], field.replace(/_endpoint|_uri/, '')]));
    const idpFetch = this.#timedFetch(connection.id, (url) => endpoints.get(url) ?? 'other');

    const clientMetadata: Partial<client.ClientMetadata> = {
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: connection.tokenEndpointAuthMethod,
      [client.clockTolerance]: this.#options.clockToleranceSeconds,
    };
    const clientAuth = clientAuthFor(connection, metadata, this.#options.keys);
    const configuration = new client.Configuration(metadata, connection.clientId, clientMetadata, clientAuth);
    configuration.timeout = this.#options.timeoutSeconds;
    configuration[client.customFetch] = idpFetch;
    if (needsInsecure) client.allowInsecureRequests(configuration);
    // openid-client checks the ID token's claims but verifies its signature in the code flow
    // only when asked (OpenID Connect Core §3.1.3.7 step 6 allows skipping it over TLS). A
    // broker that hands identities to other apps must verify it: code-exchange.ts does, against
    // these keys. jose rather than enableNonRepudiationChecks, because openid-client refetches
    // a JWKS for an unknown kid only once its copy is a minute old, so a key rotated just after
    // a fetch would fail logins for up to a minute.
    // assertDiscoveredMetadata has refused a document without one; the compiler cannot know it.
    if (metadata.jwks_uri === undefined)
      throw new BrokerError('idp_error', { logMessage: 'discovery has no jwks_uri' });
    const remote = jose.createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: this.#options.timeoutSeconds * 1000,
      cooldownDuration: this.#options.jwksCooldownSeconds * 1000,
      cacheMaxAge: (this.#options.jwksMaxAgeSeconds ?? 600) * 1000,
      [jose.customFetch]: boundedJwksFetch(idpFetch),
    });
    const log = this.#options.log;
    const idp: Idp = {
      configuration,
      metadata: Object.freeze(metadata),
      // Fetched by the first login that needs them; each copy prepared once (id-token-signature.ts).
      keys: { remote, copy: undefined, fetching: undefined },
      clockToleranceSeconds: this.#options.clockToleranceSeconds,
      hasUserinfo: typeof metadata.userinfo_endpoint === 'string',
      onStaleKeys: (reason) =>
        log?.warn(
          { connection: connection.id, reason },
          'IdP keys could not be refreshed; verified with the cached copy',
        ),
    };
    if (connection.issuer.includes('{tenantid}')) {
      idp.issuerTemplate = {
        template: connection.issuer,
        allowedTenantIds: connection.allowedTenantIds,
        clientAuth,
        insecure: needsInsecure,
      };
    }
    return idp;
  }

  /**
   * Refuses a document naming an endpoint the network policy refuses (idp-metadata-rules.ts);
   * an unresolvable name is left to the connection.
   */
  async #assertEndpointsAllowed(metadata: client.ServerMetadata): Promise<void> {
    const refused = (await endpointProblems(metadata as Record<string, unknown>, this.#options.networkPolicy)).find(
      (problem) => problem.refused,
    );
    if (refused) {
      throw new BrokerError('idp_error', {
        description: "The identity provider's discovery document names an endpoint the broker may not use.",
        cause: refused.error,
        logMessage: `discovery ${refused.field}: ${refused.error.message}`,
      });
    }
  }
}
