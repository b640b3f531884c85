import { createHmac } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { SEALED } from '../../crypto/purposes.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { randomToken, safeEqual } from '../../crypto/tokens.js';
import type {
  ConsoleGrounds,
  ConsoleSessionRepo,
  StoredConsoleSession,
} from '../../domain/login/console-session.repo.js';
import type { ConsoleSignIn, ConsoleSsoSignIn } from '../../domain/login/console-sign-in.service.js';
import { BrokerError } from '../../errors/broker-error.js';

/** Signed out after this long without a request. */
export const CONSOLE_IDLE_MS = 30 * 60_000;
/** And after this long in any case. */
export const CONSOLE_MAX_MS = 12 * 60 * 60_000;
/** The embedded database's start-up sign-in link works once, and only this long after start-up. */
export const SIGN_IN_CODE_TTL_MS = 15 * 60_000;

/** A console sign-in code that works once, until `expiresAt` (epoch ms): the start-up link's. */
export interface SignInCode {
  code: string;
  expiresAt: number;
}

export interface ConsoleSession {
  /** The stored session's id (console_sessions): what sign-out revokes. */
  id: string;
  /** Who: "admin token", or the console user's identity (their email) when signed in by SSO. */
  actor: string;
  /** The forms' CSRF token, bound to this session. */
  csrf: string;
  issuedAt: number;
  seenAt: number;
}

/** How an operator got in: the admin token, or an SSO sign-in and its grounds (console-sign-in.service.ts). */
export type ConsoleAdmission = { method: 'token' } | ({ method: 'sso' } & ConsoleSsoSignIn);

/**
 * The operators' console sessions. The browser holds a sealed (AES-256-GCM, SECRET_KEY),
 * HttpOnly, SameSite=Strict cookie with the session's id and CSRF token, which times out after
 * CONSOLE_IDLE_MS idle (each request slides it) and CONSOLE_MAX_MS in all. PostgreSQL holds the
 * session (console_sessions): who, and what admitted them. A cookie opens a session only while
 * that row is there, not revoked — sign-out revokes it on every replica — and only while what
 * admitted it still would: the current ADMIN_TOKEN for a token sign-in (a rotated token ends
 * it), the current CONSOLE_TENANT, CONSOLE_ADMINS and pinned issuers for an SSO one.
 */
export class ConsoleSessions {
  constructor(
    private readonly deps: {
      box: SecretBox;
      store: Pick<ConsoleSessionRepo, 'create' | 'findLive' | 'touch' | 'revoke'>;
      /** The current ADMIN_TOKEN; unset: no token session lasts. */
      adminToken: string | undefined;
      sso: Pick<ConsoleSignIn, 'admits'>;
    },
  ) {}

  /** Signs an operator in: a stored session, and what its cookie holds. */
  async start(admission: ConsoleAdmission, now = Date.now()): Promise<ConsoleSession> {
    const id = randomToken(16);
    let actor: string;
    let grounds: ConsoleGrounds;
    if (admission.method === 'token') {
      if (this.deps.adminToken === undefined) throw new BrokerError('admin_disabled');
      actor = 'admin token';
      grounds = { method: 'token', tokenHmac: tokenHmac(this.deps.adminToken, id) };
    } else {
      actor = admission.actor;
      grounds = admission.grounds;
    }
    await this.deps.store.create({ id, actor, grounds, expiresAt: new Date(now + CONSOLE_MAX_MS) });
    return this.issue(id, actor, now);
  }

  /** What a new session's cookie holds (start() stores it first). */
  issue(id: string, actor: string, now = Date.now()): ConsoleSession {
    return { id, actor, csrf: randomToken(24), issuedAt: now, seenAt: now };
  }

  seal(session: ConsoleSession): string {
    return this.deps.box.seal(JSON.stringify(session), SEALED.consoleSession());
  }

  /** The session a cookie holds, if it opens and has not timed out (the cookie alone). */
  open(sealed: string | undefined, now = Date.now()): ConsoleSession | undefined {
    if (sealed === undefined || sealed.length > 2048) return undefined;
    const json = this.deps.box.open(sealed, SEALED.consoleSession());
    if (json === undefined) return undefined;
    let session: ConsoleSession;
    try {
      session = JSON.parse(json) as ConsoleSession;
    } catch {
      return undefined;
    }
    if (typeof session.id !== 'string' || typeof session.actor !== 'string' || typeof session.csrf !== 'string')
      return undefined;
    if (now - session.seenAt > CONSOLE_IDLE_MS || now - session.issuedAt > CONSOLE_MAX_MS) return undefined;
    return { ...session, seenAt: now };
  }

  /**
   * The session a request's cookie holds, if the cookie opens, its stored session is live, and
   * what admitted it still would; one query (and a write at most once a minute). A session no
   * longer admitted is revoked, so it stays ended whatever the configuration does next.
   */
  async resume(sealed: string | undefined, now = Date.now()): Promise<ConsoleSession | undefined> {
    const session = this.open(sealed, now);
    const stored = session && (await this.deps.store.findLive(session.id));
    if (!session || !stored) return undefined;
    if (!(await this.#stillAdmitted(stored))) {
      await this.deps.store.revoke(stored.id);
      return undefined;
    }
    if (now - stored.lastSeenAt.getTime() > 60_000) await this.deps.store.touch(stored.id);
    return { ...session, actor: stored.actor };
  }

  /** Signs out: the session ends on every replica, whatever cookie copies remain. */
  async end(session: ConsoleSession): Promise<void> {
    await this.deps.store.revoke(session.id);
  }

  csrfMatches(session: ConsoleSession, sent: unknown): boolean {
    return typeof sent === 'string' && safeEqual(sent, session.csrf);
  }

  async #stillAdmitted(stored: StoredConsoleSession): Promise<boolean> {
    const { grounds } = stored;
    if (grounds.method === 'token') {
      const token = this.deps.adminToken;
      return token !== undefined && safeEqual(tokenHmac(token, stored.id), grounds.tokenHmac);
    }
    return this.deps.sso.admits(grounds);
  }
}

/**
 * A token session's fingerprint of the admin token that admitted it: an HMAC of the session id
 * keyed with the token, so the row proves which token it was without holding it, and no two
 * sessions share a value.
 */
function tokenHmac(adminToken: string, sessionId: string): string {
  return createHmac('sha256', adminToken).update(`console-session:${sessionId}`).digest('base64url');
}

/** The session cookie: `__Host-` and path / over https; otherwise on /console only. */
export function consoleCookie(secure: boolean) {
  return {
    name: secure ? '__Host-sso_console' : 'sso_console',
    options: { httpOnly: true, sameSite: 'strict' as const, secure, path: secure ? '/' : '/console' },
  };
}

/** Puts a session (new, or slid forward) into the browser's console cookie. */
export function writeConsoleSession(
  reply: FastifyReply,
  sessions: Pick<ConsoleSessions, 'seal'>,
  session: ConsoleSession,
  secure: boolean,
): void {
  const { name, options } = consoleCookie(secure);
  reply.setCookie(name, sessions.seal(session), options);
}
