import type { LevelWithSilent } from 'pino';
import { parseEnv } from './env.schema.js';

export { ConfigError } from './env.schema.js';

/** The broker's configuration: parsed once at start-up, frozen, passed in. Tests build a literal. */
export interface Config {
  databaseUrl: string | undefined;
  publicUrl: string;
  callbackUrl: string;
  /** Cookies get `Secure` when the broker is served over https. */
  secureCookies: boolean;
  host: string;
  port: number;
  adminToken: string | undefined;
  /** CONSOLE_TENANT: operators sign in to the console through this tenant's IdP. */
  consoleTenant: string | undefined;
  /** CONSOLE_ADMINS: who of it may — emails (verified), or `group:<value>`. */
  consoleAdmins: string[];
  /**
   * CONSOLE_ISSUER: console sign-ins are admitted only from this issuer; unset, from the
   * issuers pinned when the broker first started with CONSOLE_TENANT (console-pin.ts).
   */
  consoleIssuer: string | undefined;
  /** SECRET_KEY's keys; undefined until main resolves the embedded database's generated key. */
  secretKeys: Buffer[] | undefined;
  keysDir: string;
  signingKeyId: string | undefined;
  tenantDomain: string | undefined;
  /** Fastify's trustProxy: whose X-Forwarded-For/-Host to believe. */
  trustProxy: boolean | number | string[];
  ticketTtlSeconds: number;
  rateLimitPerMinute: number;
  migrateOnStart: boolean;
  logLevel: LevelWithSilent;
  /** How long a learner has at the IdP before the login transaction expires. */
  transactionTtlSeconds: number;
  /** Seconds before a request to an IdP is abandoned. */
  idpTimeoutSeconds: number;
  /** Allowed clock difference with IdPs for exp/iat/nbf. */
  clockToleranceSeconds: number;
  /** Safety net for live configuration: cached tenants, apps and connections live at most this long. */
  configCacheTtlSeconds: number;
  /** How long an IdP's discovery document and JWKS are used before they are fetched again. */
  discoveryTtlSeconds: number;
  jwksMaxAgeSeconds: number;
  /** How long login attempts are kept for troubleshooting. */
  auditRetentionDays: number;
  /** After a JWKS fetch, how long before an unknown `kid` may trigger another (key rotation). */
  jwksCooldownSeconds: number;
  /**
   * CIDR ranges IdP hosts may resolve to besides public addresses; `http` only on loopback
   * addresses listed here. Loopback by default on the embedded (development) database.
   */
  idpPrivateNetworks: string[];
  /** WEBHOOK_PRIVATE_NETWORKS: where webhook endpoints may resolve besides public addresses. */
  webhookPrivateNetworks: string[];
  /** DNS_SERVERS: resolvers for domain verification; empty: the system's. */
  dnsServers: string[];
  /** Bearer token GET /metrics requires; unset: /metrics is open. */
  metricsToken: string | undefined;
}

/**
 * HOST on the embedded database when unset: its generated admin token and one-time console link
 * make it a development broker, reachable from this machine only unless HOST says otherwise.
 */
export const DEVELOPMENT_HOST = '127.0.0.1';

/** IDP_PRIVATE_NETWORKS on the embedded database when unset: the demo's and `npm start`'s local IdPs. */
export const DEVELOPMENT_IDP_NETWORKS = ['127.0.0.0/8', '::1/128'];

export function loadConfig(source: Record<string, string | undefined>): Config {
  const env = parseEnv(source);
  return Object.freeze({
    databaseUrl: env.DATABASE_URL,
    publicUrl: env.PUBLIC_URL,
    callbackUrl: `${env.PUBLIC_URL}/api/sso/callback`,
    secureCookies: env.PUBLIC_URL.startsWith('https:'),
    host: env.HOST ?? (env.DATABASE_URL === undefined ? DEVELOPMENT_HOST : '0.0.0.0'),
    port: env.PORT,
    adminToken: env.ADMIN_TOKEN,
    consoleTenant: env.CONSOLE_TENANT,
    consoleAdmins: env.CONSOLE_ADMINS,
    consoleIssuer: env.CONSOLE_ISSUER,
    secretKeys: env.SECRET_KEY,
    keysDir: env.KEYS_DIR,
    signingKeyId: env.SIGNING_KEY_ID,
    tenantDomain: env.TENANT_DOMAIN,
    trustProxy: env.TRUST_PROXY,
    ticketTtlSeconds: env.TICKET_TTL_SECONDS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    migrateOnStart: env.MIGRATE_ON_START,
    logLevel: env.LOG_LEVEL,
    transactionTtlSeconds: env.TRANSACTION_TTL_SECONDS,
    idpTimeoutSeconds: env.IDP_TIMEOUT_SECONDS,
    clockToleranceSeconds: env.CLOCK_SKEW_SECONDS,
    jwksCooldownSeconds: 30,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    configCacheTtlSeconds: 30,
    discoveryTtlSeconds: 3600,
    jwksMaxAgeSeconds: 600,
    idpPrivateNetworks: env.IDP_PRIVATE_NETWORKS ?? (env.DATABASE_URL === undefined ? DEVELOPMENT_IDP_NETWORKS : []),
    // The demo's and `npm start`'s local apps receive webhooks on loopback, like their IdPs.
    webhookPrivateNetworks:
      env.WEBHOOK_PRIVATE_NETWORKS ?? (env.DATABASE_URL === undefined ? DEVELOPMENT_IDP_NETWORKS : []),
    dnsServers: env.DNS_SERVERS ?? [],
    metricsToken: env.METRICS_TOKEN,
  });
}
