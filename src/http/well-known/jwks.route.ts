import type { FastifyInstance } from 'fastify';
import type { BrokerKeys } from '../../config/broker-keys.js';

/** The broker's public keys, for IdPs that take a JWKS URL for private_key_jwt (RFC 7517). */
export async function wellKnownRoutes(app: FastifyInstance, deps: { keys: BrokerKeys }) {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(deps.keys.jwks());
  });
}
