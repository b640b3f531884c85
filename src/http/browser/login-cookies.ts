import type { FastifyReply } from 'fastify';
import type { CookieToSet } from '../../domain/login/transaction-cookies.js';

/**
 * Sets the cookies a login start or callback asks for (transaction-cookies.ts decides which).
 * Path `/`: starting a login must see the browser's other pending logins to bound them;
 * SameSite=Lax lets the IdP's top-level redirect carry them back.
 */
export function setLoginCookies(reply: FastifyReply, cookies: readonly CookieToSet[], secure: boolean): void {
  for (const cookie of cookies) {
    reply.setCookie(cookie.name, cookie.value, {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: '/',
      maxAge: cookie.maxAgeSeconds,
      ...(cookie.domain && { domain: cookie.domain }),
    });
  }
}
