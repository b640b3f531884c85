import * as jose from 'jose';
import { ResponseTooLargeError } from './bounded-fetch.js';

/**
 * The most an IdP's JWKS may weigh and hold. jose parses, copies and indexes the whole set on
 * every fetch, in one go: half a megabyte of tiny members (170,000 `{}`) would stall the
 * process for about 400 ms, 10,000 small keys for about 200 ms. Real sets hold a handful of
 * keys, with their certificates a few kilobytes.
 */
export const MAX_JWKS_BYTES = 128 * 1024;
export const MAX_JWKS_KEYS = 100;

/**
 * The fetch jose's remote JWKS uses: a set over those bounds is refused before jose reads it,
 * as a JWKS that could not be fetched (the last good copy, if any, keeps deciding).
 */
export function boundedJwksFetch(idpFetch: typeof fetch): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const response = await idpFetch(input, init);
    if (response.status !== 200) return response;
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_JWKS_BYTES)
      throw new ResponseTooLargeError(`JWKS of ${body.byteLength} bytes exceeds ${MAX_JWKS_BYTES}`);
    const count = keyCount(new TextDecoder().decode(body));
    if (count > MAX_JWKS_KEYS)
      throw new jose.errors.JWKSInvalid(`JWKS holds ${count} keys, more than ${MAX_JWKS_KEYS}`);
    return new Response(body, { status: response.status, headers: response.headers });
  }) as typeof fetch;
}

/** How many members a JWK Set's `keys` holds; 0 for anything else, which jose then refuses. */
function keyCount(body: string): number {
  try {
    const keys = (JSON.parse(body) as { keys?: unknown } | null)?.keys;
    return Array.isArray(keys) ? keys.length : 0;
  } catch {
    return 0;
  }
}
