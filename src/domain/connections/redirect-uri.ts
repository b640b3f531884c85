/**
 * Each connection's own redirect URI, `PUBLIC_URL/api/sso/callback/<connection id>`
 * (contract v2; RFC 9700 §4.4.2): the callback a code arrives on names the IdP it came from,
 * so a code issued by one tenant's IdP is never sent to another tenant's token endpoint.
 */
export function redirectUriFor(callbackBase: string, connectionId: string): string {
  return `${callbackBase}/${encodeURIComponent(connectionId)}`;
}

/**
 * Each connection's back-channel logout URI (contract v4),
 * `PUBLIC_URL/api/sso/backchannel-logout/<connection id>`: beside the callback base, where the
 * connection's IdP posts logout tokens.
 */
export function backchannelLogoutUriFor(callbackBase: string, connectionId: string): string {
  return `${new URL('backchannel-logout', callbackBase).href}/${encodeURIComponent(connectionId)}`;
}

/** Everything an IdP engineer registers for one connection (the setup link's step 2). */
export function registeredUris(broker: { publicUrl: string; callbackUrl: string }, connectionId: string) {
  return {
    redirect: redirectUriFor(broker.callbackUrl, connectionId),
    postLogout: `${broker.publicUrl}/api/sso/logout/done`,
    initiate: `${broker.publicUrl}/api/sso/initiate`,
    jwks: `${broker.publicUrl}/.well-known/jwks.json`,
    backchannelLogout: backchannelLogoutUriFor(broker.callbackUrl, connectionId),
  };
}
