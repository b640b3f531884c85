/**
 * Each connection's own redirect URI, `PUBLIC_URL/api/sso/callback/<connection id>`
 * (contract v2; RFC 9700 §4.4.2): the callback a code arrives on names the IdP it came from,
 * so a code issued by one tenant's IdP is never sent to another tenant's token endpoint.
 */
export function redirectUriFor(callbackBase: string, connectionId: string): string {
  return `${callbackBase}/${encodeURIComponent(connectionId)}`;
}
