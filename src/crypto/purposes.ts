/**
 * Every kind of value SecretBox seals, and the purpose bound to it as additional authenticated
 * data (secret-box.ts): a ciphertext made for one purpose does not open as another, so a
 * connection's sealed client secret cannot be replayed as a login cookie, nor one connection's
 * secret as another's. One file, so a new sealed value cannot reuse an existing purpose by accident.
 */
export const SEALED = {
  /** An IdP client secret, at rest; bound to its connection. */
  connectionClientSecret: (connectionId: string) => `connection-client-secret:${connectionId}`,
  /** A login transaction, in the browser's cookie; bound to its state (the cookie's name). */
  loginTransaction: (state: string) => `login-transaction:${state}`,
  /** A session's ID token, at rest for id_token_hint at logout; bound to its session. */
  sessionIdToken: (sessionId: string) => `session-id-token:${sessionId}`,
  /** A self-contained ticket, in the app's return URL; bound to the app it was minted for. */
  ticket: (appId: string) => `ticket:${appId}`,
  /** The state of an RP-initiated logout, round-tripped through the IdP. */
  logoutState: () => 'logout-state',
  /** A webhook endpoint's signing secret, at rest; bound to its endpoint. */
  webhookSecret: (endpointId: string) => `webhook-secret:${endpointId}`,
  /** An operator's console session, in an HttpOnly cookie. */
  consoleSession: () => 'console-session',
} as const;
