import type { FastifyRequest } from 'fastify';

/**
 * Whether a browser posted a form from this broker's own pages (setup links, console), by the
 * headers browsers set themselves: `Sec-Fetch-Site` same-origin (or none: typed, bookmarked),
 * and no `Origin` of another site. With `Referrer-Policy: no-referrer`, browsers send
 * `Origin: null` even for our own forms, so only an Origin naming another origin is refused.
 * A check beside the form's CSRF token, never instead of it.
 */
export function postedFromHere(request: FastifyRequest, publicOrigin: string): boolean {
  const from = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const originOk = from === undefined || from === 'null' || from === publicOrigin;
  const siteOk = site === undefined || site === 'same-origin' || site === 'none';
  return originOk && siteOk;
}
