import { safeEqual } from '../crypto/tokens.js';

/** `Authorization: Bearer <token>` carrying exactly `token`, compared in constant time. */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/i.exec(authorization ?? '');
  return match?.[1] !== undefined && safeEqual(match[1].trim(), token);
}
