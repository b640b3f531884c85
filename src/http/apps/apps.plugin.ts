import type { FastifyInstance } from 'fastify';
import { BrokerError } from '../../errors/broker-error.js';
import type { TicketService } from '../../domain/tickets/ticket.service.js';
import { jsonErrorHandler } from '../errors.js';
import { limitRequests } from '../rate-limit.js';

/** RFC 7617 Basic credentials; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Relying apps, server to server: ticket redemption. */
export async function appRoutes(app: FastifyInstance, deps: { tickets: TicketService; rateLimitPerMinute: number }) {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof BrokerError && error.code === 'invalid_client') {
      void reply.header('www-authenticate', 'Basic realm="sso-broker"');
    }
    return jsonErrorHandler(error, request, reply);
  });

  // Per client IP, and per app: one app's burst cannot starve the others behind a shared NAT.
  await limitRequests(app, deps.rateLimitPerMinute);
  await limitRequests(app, deps.rateLimitPerMinute, (request) => `app:${parseBasicAuth(request.headers.authorization)?.id ?? request.ip}`);

  app.post('/api/sso/tickets/redeem', async (request, reply) => {
    const credentials = parseBasicAuth(request.headers.authorization);
    if (!credentials) throw new BrokerError('invalid_client');
    const client = await deps.tickets.authenticateApp(credentials.id, credentials.secret);
    const body = request.body as { ticket?: unknown } | undefined;
    const answer = await deps.tickets.redeem(client.id, body?.ticket);
    return reply.header('cache-control', 'no-store').send(answer);
  });
}
