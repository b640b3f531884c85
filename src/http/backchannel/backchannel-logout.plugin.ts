import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { BackchannelLogoutService } from '../../domain/sessions/backchannel-logout.service.js';
import { jsonErrorHandler } from '../errors.js';
import { limitRequests } from '../rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Back-channel logout: whether the URL names a connection (which rate limit counts it). */
    backchannelConnectionKnown: boolean;
  }
}

/**
 * `POST /api/sso/backchannel-logout/:connection`, where a connection's IdP sends logout tokens
 * (OpenID Connect Back-Channel Logout 1.0 §2.5, §2.8). Every answer is `Cache-Control: no-store`;
 * the token travels in the form body, which no log line includes. Its own rate limits: per
 * address and connection for a connection that exists (an IdP ending many sessions at once is
 * not slowed by logins, nor by another tenant's IdP on a shared address), and per address for
 * connection ids that name nothing (made-up ids cost a lookup each, and buckets of their own).
 */
export async function backchannelLogoutRoutes(
  app: FastifyInstance,
  deps: {
    backchannelLogout: BackchannelLogoutService;
    /** The cached configuration's lookup (a miss is cached too). */
    findConnection(id: string): Promise<unknown>;
    rateLimitPerMinute: number;
  },
) {
  app.setErrorHandler(jsonErrorHandler);
  // Every answer, errors included (§2.8).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  await app.register(formbody, { bodyLimit: 32 * 1024 });
  app.decorateRequest('backchannelConnectionKnown', false);
  app.addHook('onRequest', async (request) => {
    const id = (request.params as { connection?: string } | undefined)?.connection ?? '';
    request.backchannelConnectionKnown = (await deps.findConnection(id).catch(() => undefined)) !== undefined;
  });
  await limitRequests(app, deps.rateLimitPerMinute, {
    keyGenerator: (request) => `${request.ip} ${(request.params as { connection?: string }).connection ?? ''}`,
    exempt: (request) => !request.backchannelConnectionKnown,
  });
  await limitRequests(app, deps.rateLimitPerMinute, { exempt: (request) => request.backchannelConnectionKnown });
  app.post<{ Params: { connection: string } }>('/api/sso/backchannel-logout/:connection', async (request, reply) => {
    await deps.backchannelLogout.logout(request.params.connection, request.body);
    return reply.code(200).send();
  });
}
