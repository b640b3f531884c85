import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { BackchannelLogoutService } from '../../domain/sessions/backchannel-logout.service.js';
import { errorBody, logError, toBrokerError } from '../errors.js';
import { limitRequests } from '../rate-limit.js';

/**
 * `POST /api/sso/backchannel-logout/:connection`, where a connection's IdP sends logout tokens
 * (OpenID Connect Back-Channel Logout 1.0 §2.5, §2.8). Every answer is `Cache-Control: no-store`;
 * the token travels in the form body, which no log line includes. Its own rate limit, per
 * address and connection: an IdP ending many sessions at once is not slowed by logins.
 */
export async function backchannelLogoutRoutes(
  app: FastifyInstance,
  deps: { backchannelLogout: BackchannelLogoutService; rateLimitPerMinute: number },
) {
  app.setErrorHandler((error, request, reply) => {
    const brokerError = toBrokerError(error);
    logError(request, brokerError);
    return reply
      .code(brokerError.status)
      .headers({ 'cache-control': 'no-store' })
      .type('application/json')
      .send(errorBody(brokerError, request.id));
  });
  await app.register(formbody, { bodyLimit: 32 * 1024 });
  await limitRequests(app, deps.rateLimitPerMinute, (request) => {
    const connection = (request.params as { connection?: string } | undefined)?.connection ?? '';
    return `${request.ip} ${connection}`;
  });
  app.post<{ Params: { connection: string } }>('/api/sso/backchannel-logout/:connection', async (request, reply) => {
    await deps.backchannelLogout.logout(request.params.connection, request.body);
    return reply.code(200).headers({ 'cache-control': 'no-store' }).send();
  });
}
