import type { FastifyReply } from 'fastify';
import { SEALED } from '../../crypto/purposes.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { randomToken, safeEqual } from '../../crypto/tokens.js';

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
  /** Who: "admin token", or the console user's identity (their email) when signed in by SSO. */
  actor: string;
  /** The forms' CSRF token, bound to this session. */
  csrf: string;
  issuedAt: number;
  seenAt: number;
}

/**
 * The operators' console session: sealed (AES-256-GCM, SECRET_KEY) into one HttpOnly,
 * SameSite=Strict cookie on /console — nothing stored server-side, so every replica knows it.
 * It expires after CONSOLE_IDLE_MS idle (each request slides it) and CONSOLE_MAX_MS in all.
 */
export class ConsoleSessions {
  constructor(private readonly box: SecretBox) {}

  issue(actor: string, now = Date.now()): ConsoleSession {
    return { actor, csrf: randomToken(24), issuedAt: now, seenAt: now };
  }

  seal(session: ConsoleSession): string {
    return this.box.seal(JSON.stringify(session), SEALED.consoleSession());
  }

  /** The session a cookie holds, if it opens and has not expired. */
  open(sealed: string | undefined, now = Date.now()): ConsoleSession | undefined {
    if (sealed === undefined || sealed.length > 2048) return undefined;
    const json = this.box.open(sealed, SEALED.consoleSession());
    if (json === undefined) return undefined;
    let session: ConsoleSession;
    try {
      session = JSON.parse(json) as ConsoleSession;
    } catch {
      return undefined;
    }
    if (typeof session.actor !== 'string' || typeof session.csrf !== 'string') return undefined;
    if (now - session.seenAt > CONSOLE_IDLE_MS || now - session.issuedAt > CONSOLE_MAX_MS) return undefined;
    return { ...session, seenAt: now };
  }

  csrfMatches(session: ConsoleSession, sent: unknown): boolean {
    return typeof sent === 'string' && safeEqual(sent, session.csrf);
  }
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
