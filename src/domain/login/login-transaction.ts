import { SEALED } from '../../crypto/purposes.js';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/secret-box.js';

/**
 * A login in flight, sealed (AES-256-GCM, SECRET_KEY) into an HttpOnly cookie named after
 * its state: the browser that started the login is the only one that can finish it, nothing
 * is written to the database until a ticket is minted, and several tabs can sign in at once.
 *
 * Only what the callback needs is sealed, so the cookie stays small (about 450 bytes; browsers
 * drop cookies over 4 KB, and servers refuse large Cookie headers): the state is the cookie's
 * name and is bound as the seal's associated data rather than repeated inside; the tenant
 * follows from the connection; the return URL is kept as a hash of one of the app's registered
 * URLs, found again at the callback.
 */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The connection the login was sent to: its redirect URI is the only one that may finish it. */
  connectionId: string;
  /**
   * settingsFingerprint() of the connection version the login was sent to: the callback
   * finishes it only with those same IdP settings (issuer, discovery URL, client), never with
   * a version activated or drafted meanwhile.
   */
  settings: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** The id of the request that finished it (the callback's), for the audit; never sealed. */
  requestId?: string | undefined;
  /** Who asked for the login: a relying app (the learner goes back to it) or a test login. */
  purpose: AppPurpose | TestPurpose | ConsolePurpose;
  /** What the callback checks of the sign-in itself (contract v4); absent or empty: nothing. */
  demands?: SignInDemands | undefined;
}

/**
 * The step-up and freshness a login asked for, as the callback needs them. The ACR values are
 * kept as hashes: ten values of 200 characters from the app, plus the connection's, would
 * otherwise take more than a cookie may hold, and the callback only asks "is the ID token's
 * `acr` one of them?".
 */
export interface SignInDemands {
  /** acrHash() of every ACR value sent (the app's and the connection's). */
  acrHashes?: string[] | undefined;
  /** `max_age` sent, in seconds: the ID token must carry an `auth_time` no older. */
  maxAge?: number | undefined;
  /** `prompt=login` sent: an `auth_time` must not be older than the login's start (createdAt). */
  promptLogin?: boolean | undefined;
}

/** An operator signing in to the console through CONSOLE_TENANT: ends in a console session. */
export interface ConsolePurpose {
  kind: 'console';
}

export interface AppPurpose {
  kind: 'app';
  appId: string;
  /** returnToHash() of the app's registered return URL the learner goes back to. */
  returnToHash: string;
  /** The app's opaque state, echoed back unchanged. */
  appState?: string | undefined;
}

/** A test login (POST /admin/connections/:id/test-login): no app, ends on a diagnostics page. */
export interface TestPurpose {
  kind: 'test';
  /** The connection version under test (a draft, say); absent: the active settings. */
  version?: number | undefined;
  /**
   * The broker page that started the test (a setup link's page: its path holds the link's
   * token, which this browser already has), where the diagnostics lead back to.
   */
  backTo?: string | undefined;
}

/** The cookie names carry this prefix (after `__Host-` where that is used). */
export const TRANSACTION_COOKIE_PREFIX = 'sso_tx_';

/** A browser holds at most this many pending logins (contract); a sixth drops the oldest. */
export const MAX_PENDING_LOGINS = 5;

/**
 * At most this many bytes of pending-login cookies (names and values) in a browser, so that
 * no request the broker causes carries more than 8 KB of its cookies, whatever the apps'
 * `state` values hold (512 characters of UTF-8 can take 1.5 KB).
 */
export const MAX_PENDING_COOKIE_BYTES = 6 * 1024;

/**
 * `__Host-` (RFC 6265bis §4.1.3.2) when the cookie is Secure and host-only: no other host,
 * sibling subdomain or plain-http page can set or shadow it. A cookie shared with tenant
 * subdomains needs a Domain, which `__Host-` forbids.
 */
export function transactionCookieName(state: string, hostPrefix: boolean): string {
  return `${hostPrefix ? '__Host-' : ''}${TRANSACTION_COOKIE_PREFIX}${state}`;
}

/** The state a transaction cookie's name carries, or undefined for other cookies. */
export function stateOfCookieName(name: string): string | undefined {
  const bare = name.startsWith('__Host-') ? name.slice('__Host-'.length) : name;
  return bare.startsWith(TRANSACTION_COOKIE_PREFIX) ? bare.slice(TRANSACTION_COOKIE_PREFIX.length) : undefined;
}

/** 128 bits of SHA-256, base64url: enough to tell an app's registered return URLs apart. */
export function returnToHash(returnTo: string): string {
  return createHash('sha256').update(returnTo).digest().subarray(0, 16).toString('base64url');
}

/**
 * Which IdP a connection's settings send codes to and redeem them at: 64 bits of SHA-256 over
 * issuer, discovery URL and client id. Two versions of one connection share its redirect URI,
 * so this (not the redirect URI) tells them apart at the callback — the mix-up rule between
 * connections (RFC 9700 §4.4), applied between versions.
 */
export function settingsFingerprint(settings: {
  issuer: string;
  discoveryUrl: string | null;
  clientId: string;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([settings.issuer, settings.discoveryUrl, settings.clientId]))
    .digest()
    .subarray(0, 8)
    .toString('base64url');
}

/** 96 bits of SHA-256, base64url: an ACR value as a transaction keeps it (see SignInDemands). */
export function acrHash(value: string): string {
  return createHash('sha256').update(value).digest().subarray(0, 12).toString('base64url');
}

/** The sealed form: one-letter keys, since every byte travels in a cookie. */
const sealedSchema = z.object({
  n: z.string(),
  v: z.string(),
  c: z.string(),
  f: z.string(),
  at: z.number(),
  a: z.object({ id: z.string(), r: z.string(), s: z.string().optional() }).optional(),
  t: z.number().int().positive().optional(),
  b: z.string().max(200).optional(),
  k: z.literal('console').optional(),
  d: z
    .object({
      r: z.array(z.string()).optional(),
      m: z.number().int().nonnegative().optional(),
      l: z.literal(1).optional(),
    })
    .optional(),
});

export function sealTransaction(box: SecretBox, tx: LoginTransaction): string {
  const sealed: z.input<typeof sealedSchema> = {
    n: tx.nonce,
    v: tx.codeVerifier,
    c: tx.connectionId,
    f: tx.settings,
    at: tx.createdAt,
  };
  if (tx.purpose.kind === 'app') {
    sealed.a = {
      id: tx.purpose.appId,
      r: tx.purpose.returnToHash,
      ...(tx.purpose.appState !== undefined && { s: tx.purpose.appState }),
    };
  } else if (tx.purpose.kind === 'console') {
    sealed.k = 'console';
  } else {
    if (tx.purpose.version !== undefined) sealed.t = tx.purpose.version;
    if (tx.purpose.backTo !== undefined) sealed.b = tx.purpose.backTo;
  }
  const demands = tx.demands;
  if (demands && (demands.acrHashes || demands.maxAge !== undefined || demands.promptLogin)) {
    sealed.d = {
      ...(demands.acrHashes && { r: demands.acrHashes }),
      ...(demands.maxAge !== undefined && { m: demands.maxAge }),
      ...(demands.promptLogin && { l: 1 as const }),
    };
  }
  return box.seal(JSON.stringify(sealed), SEALED.loginTransaction(tx.state));
}

/** Undefined when the cookie was tampered with, made for another state, or sealed with an unknown key. */
export function openTransaction(box: SecretBox, state: string, sealed: string): LoginTransaction | undefined {
  const json = box.open(sealed, SEALED.loginTransaction(state));
  if (json === undefined) return undefined;
  let parsed: z.output<typeof sealedSchema>;
  try {
    parsed = sealedSchema.parse(JSON.parse(json));
  } catch {
    // Sealed by this key but in another shape (a cookie from before an upgrade): not ours to finish.
    return undefined;
  }
  return {
    state,
    nonce: parsed.n,
    codeVerifier: parsed.v,
    connectionId: parsed.c,
    settings: parsed.f,
    createdAt: parsed.at,
    ...(parsed.d && {
      demands: {
        ...(parsed.d.r && { acrHashes: parsed.d.r }),
        ...(parsed.d.m !== undefined && { maxAge: parsed.d.m }),
        ...(parsed.d.l && { promptLogin: true }),
      },
    }),
    purpose: parsed.a
      ? { kind: 'app', appId: parsed.a.id, returnToHash: parsed.a.r, appState: parsed.a.s }
      : parsed.k === 'console'
        ? { kind: 'console' }
        : {
            kind: 'test',
            ...(parsed.t !== undefined && { version: parsed.t }),
            ...(parsed.b !== undefined && { backTo: parsed.b }),
          },
  };
}
