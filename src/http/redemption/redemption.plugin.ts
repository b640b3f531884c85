import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BrokerError } from '../../errors/broker-error.js';
import type { DiscoveryService } from '../../domain/domains/discovery.service.js';
import type { TicketService } from '../../domain/tickets/ticket.service.js';
import { jsonErrorHandler } from '../errors.js';
import { limitRequests, type RequestLimit } from '../rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Relying-app routes: the app whose Basic credentials this request proved; null when it proved none. */
    authenticatedAppId: string | null;
  }
}

/** RFC 7617 Basic credentials; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * Checks the Basic credentials before anything else runs and records the outcome on the
 * request: the rate limits below need to know whom a request may be counted against.
 * Missing, malformed and wrong credentials all record "none"; the route refuses them.
 *
 * Counted before looked up: an address past its limit gets 429 at once for an app id this
 * process does not hold, so guessed app ids from one address cost the database nothing once
 * the limit is reached. An app the process holds is still checked (in memory, or one shared
 * query per cache TTL), so an app that shares its address with a guesser (a NAT, a proxy) is
 * still served, and whoever fails there is counted and refused by the limit.
 */
async function authenticateApp(
  tickets: Pick<TicketService, 'authenticateApp' | 'knowsApp'>,
  addressLimit: RequestLimit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const credentials = parseBasicAuth(request.headers.authorization);
  if (!credentials) return;
  if (!tickets.knowsApp(credentials.id)) addressLimit.refuseWhenExhausted(request, reply);
  try {
    const app = await addressLimit.hold(request, () => tickets.authenticateApp(credentials.id, credentials.secret));
    request.authenticatedAppId = app.id;
  } catch (error) {
    // Anything but wrong credentials (the database is down) is answered as it is.
    if (!(error instanceof BrokerError && error.code === 'invalid_client')) throw error;
  }
}

/** Contract v3, retries: `Idempotency-Key: <1–200 printable characters>`, or none. */
function idempotencyKey(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[\x20-\x7E]{1,200}$/.test(value)) {
    throw new BrokerError('invalid_request', {
      description: 'Idempotency-Key must be 1 to 200 printable characters.',
    });
  }
  return value;
}

/** Relying apps, server to server: ticket redemption and discovery (contract v4). */
export async function redemptionRoutes(
  app: FastifyInstance,
  deps: { tickets: TicketService; discovery: Pick<DiscoveryService, 'discover'>; rateLimitPerMinute: number },
) {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof BrokerError && error.code === 'invalid_client') {
      void reply.header('www-authenticate', 'Basic realm="sso-broker"');
    }
    return jsonErrorHandler(error, request, reply);
  });

  app.decorateRequest('authenticatedAppId', null);
  // Contract: rate limits on redemption never let a third party lock an app out. The app ids
  // are public (every login URL carries one), so only a request that proved its app's secret
  // counts against that app, and only there: its address may be shared with someone failing
  // (a NAT, a proxy). A request that proved nothing counts against its address and stays 401
  // until that address is past the limit.
  const addressLimit = await limitRequests(app, deps.rateLimitPerMinute, {
    exempt: (request) => request.authenticatedAppId !== null,
  });
  // A context hook: it runs before the limits' route-level hooks, which count what it decided.
  app.addHook('onRequest', async (request, reply) => authenticateApp(deps.tickets, addressLimit, request, reply));
  // Each route has its own limit per app: discovering addresses never uses up redemptions.
  const perApp = (child: FastifyInstance) =>
    limitRequests(child, deps.rateLimitPerMinute, {
      keyGenerator: (request) => `app:${request.authenticatedAppId}`,
      exempt: (request) => request.authenticatedAppId === null,
    });

  await app.register(async (child) => {
    await perApp(child);
    child.post('/api/sso/tickets/redeem', async (request, reply) => {
      // Refused before the ticket is looked at: a failed authentication never uses it up.
      if (request.authenticatedAppId === null) throw new BrokerError('invalid_client');
      const body = request.body as { ticket?: unknown } | undefined;
      const answer = await deps.tickets.redeem(request.authenticatedAppId, body?.ticket, idempotencyKey(request));
      return reply.header('cache-control', 'no-store').send(answer);
    });
  });

  await app.register(async (child) => {
    await perApp(child);
    child.get('/api/sso/discover', async (request, reply) => {
      if (request.authenticatedAppId === null) throw new BrokerError('invalid_client');
      const answer = await deps.discovery.discover(request.authenticatedAppId, request.query);
      return reply.header('cache-control', 'no-store').send(answer);
    });
  });
}
