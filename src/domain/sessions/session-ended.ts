import type { EndedSession } from './session.repo.js';
/** The session.ended event of a session (contract v4): for its app, which alone receives it. */
export function sessionEnded(session: EndedSession, reason: 'idp_logout' | 'rp_logout') {
  return {
    type: 'session.ended' as const,
    appId: session.appId,
    data: {
      tenant: session.tenantSlug,
      connection: session.connectionId,
      app: session.appId,
      session: session.sessionId,
      subject: session.subject,
      reason,
    },
  };
}
