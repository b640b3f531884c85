/** How the user signed in, as the redeem answer tells the app (contract v4). */
export interface AuthenticationFacts {
  /** The ID token's `acr`, or null. */
  acr: string | null;
  /** The ID token's `amr` (its string items), or null when it has none. */
  amr: string[] | null;
  /** ISO 8601: the ID token's `auth_time` when present, else when the broker received the ID token. */
  authenticatedAt: string;
}

/**
 * Read from the validated ID token (never from userinfo, which says nothing about this sign-in).
 * Why `receivedAt` when there is no `auth_time`: it is the latest the sign-in can have happened,
 * which is what an app judging freshness needs; the IdP's own session may be older.
 */
export function authenticationFacts(claims: Record<string, unknown>, receivedAt: number): AuthenticationFacts {
  const { acr, amr, auth_time: authTime } = claims;
  return {
    acr: typeof acr === 'string' ? acr : null,
    amr: Array.isArray(amr) ? amr.filter((item): item is string => typeof item === 'string') : null,
    authenticatedAt: new Date(representable(authTime) ? authTime * 1000 : receivedAt).toISOString(),
  };
}

/** A number of seconds a Date can hold (an absurd `auth_time` must not become a 500). */
function representable(seconds: unknown): seconds is number {
  return typeof seconds === 'number' && Number.isFinite(seconds) && Math.abs(seconds * 1000) <= 8.64e15;
}
