import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * The broker's environment, as docs/reference/environment.md documents it (a test checks that
 * every variable here is there and in .env.example). Parsed once at start-up; nothing else
 * reads `process.env`.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** http is accepted only for loopback hosts (development and tests); everything else must be https. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname.endsWith('.localhost');
}

/** A comma-separated list, each item trimmed, empty items dropped (env lists, console form fields). */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const secretKeyList = z.string().transform((value, ctx) => {
  const keys: Buffer[] = [];
  for (const [index, part] of value.split(',').entries()) {
    const trimmed = part.trim();
    const key = /^[A-Za-z0-9_-]+$/.test(trimmed) ? Buffer.from(trimmed, 'base64url') : Buffer.alloc(0);
    if (key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: `key #${index + 1} must be 32 bytes encoded as base64url (43 characters)`,
      });
      return z.NEVER;
    }
    keys.push(key);
  }
  return keys;
});

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const intString = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

const publicUrl = z
  .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' })
  // zod runs refinements even when the URL check failed: parse defensively.
  .refine((value) => {
    const url = URL.parse(value);
    return url === null || (url.search === '' && url.hash === '');
  }, 'must not carry a query or fragment')
  .transform((value) => value.replace(/\/+$/, ''));

/** Comma-separated CIDR ranges (the network policies, network-policy.ts). */
const cidrList = z
  .string()
  .transform((value, ctx) => {
    const list = commaList(value);
    for (const cidr of list) {
      if (!ipaddr.isValidCIDR(cidr)) {
        ctx.addIssue({ code: 'custom', message: `"${cidr}" is not a CIDR range such as 10.0.0.0/8 or ::1/128` });
        return z.NEVER;
      }
    }
    return list;
  })
  .optional();

/** A resolver as node:dns takes it: `ip`, `ip:port`, or `[ipv6]:port`. */
function isDnsServer(value: string): boolean {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(value);
  const v4 = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(value);
  const [, ip, port] = bracketed ?? v4 ?? [undefined, value, undefined];
  const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  return portOk && ip !== undefined && isIP(ip) !== 0;
}

/** Comma-separated resolvers for domain verification (DNS_SERVERS). */
const dnsServerList = z
  .string()
  .transform((value, ctx) => {
    const list = commaList(value);
    for (const server of list) {
      if (!isDnsServer(server)) {
        ctx.addIssue({ code: 'custom', message: `"${server}" is not a resolver such as 10.0.0.2 or 10.0.0.2:53` });
        return z.NEVER;
      }
    }
    return list;
  })
  .optional();

export const envSchema = z
  .object({
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
      .optional(),
    PUBLIC_URL: publicUrl.default('http://localhost:3000'),
    // Unset: every interface, except on the embedded (development) database: loopback (config.ts).
    HOST: z.string().min(1).optional(),
    PORT: intString(0, 65535).default(3000),
    ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    // The console's SSO sign-in: a tenant slug, and who of it may (emails, or group:<value>).
    CONSOLE_TENANT: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a tenant slug')
      .optional(),
    CONSOLE_ADMINS: z.string().transform(commaList).default([]),
    // The issuer console sign-ins must come from, exactly as in its ID tokens' `iss`; unset: the
    // issuers of CONSOLE_TENANT's connections when the broker first started with it (console-pin.ts).
    CONSOLE_ISSUER: z.url({ protocol: /^https?$/, message: 'must be an issuer: an absolute http(s) URL' }).optional(),
    SECRET_KEY: secretKeyList.optional(),
    KEYS_DIR: z.string().min(1).default('./keys'),
    SIGNING_KEY_ID: z.string().min(1).optional(),
    TENANT_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'must be a domain name such as sso.example.com')
      .transform((value) => value.toLowerCase())
      .optional(),
    TICKET_TTL_SECONDS: intString(1, 3600).default(60),
    RATE_LIMIT_PER_MINUTE: intString(0, 1_000_000).default(600),
    MIGRATE_ON_START: booleanString.default(true),
    // Which proxies' X-Forwarded-* headers to believe (client IP for rate limits, Host for
    // tenant subdomains): false, true (any), a hop count, or a comma-separated list of
    // addresses and CIDR ranges.
    TRUST_PROXY: z
      .string()
      .transform((value, ctx): boolean | number | string[] => {
        if (value === 'false' || value === '0') return false;
        if (value === 'true') return true;
        if (/^\d+$/.test(value)) return Number(value);
        const list = commaList(value);
        if (list.length === 0 || list.some((part) => !/^[0-9a-f:.]+(\/\d{1,3})?$/i.test(part))) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be true, false, a hop count, or a list of addresses/CIDR ranges',
          });
          return z.NEVER;
        }
        return list;
      })
      .default(false),
    // The security bounds issue 3 asks to be configurable.
    TRANSACTION_TTL_SECONDS: intString(30, 3600).default(600),
    IDP_TIMEOUT_SECONDS: intString(1, 120).default(10),
    CLOCK_SKEW_SECONDS: intString(0, 600).default(60),
    AUDIT_RETENTION_DAYS: intString(1, 3650).default(30),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Networks IdP hosts may resolve to besides public addresses (the IdP network policy, network-policy.ts).
    IDP_PRIVATE_NETWORKS: cidrList,
    // The same for webhook endpoints (contract v4).
    WEBHOOK_PRIVATE_NETWORKS: cidrList,
    // Resolvers for domain verification (contract v4); the system's when unset.
    DNS_SERVERS: dnsServerList,
    METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  })
  .superRefine((env, ctx) => {
    // A real database holds encrypted IdP secrets: the key that opens them must be chosen by
    // the operator, never invented at start-up (it would be lost with the container).
    if (env.DATABASE_URL !== undefined && env.SECRET_KEY === undefined) {
      ctx.addIssue({ code: 'custom', path: ['SECRET_KEY'], message: 'is required when DATABASE_URL is set' });
    }
    // An issuer for the console's sign-in means nothing without the tenant it signs in through.
    if (env.CONSOLE_ISSUER !== undefined && env.CONSOLE_TENANT === undefined) {
      ctx.addIssue({ code: 'custom', path: ['CONSOLE_ISSUER'], message: 'needs CONSOLE_TENANT' });
    }
  });

export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws a ConfigError with one readable line per problem. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // An empty variable means "unset", as in most deployment tools' templates.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  return result.data;
}
