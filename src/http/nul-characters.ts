import type { FastifyInstance } from 'fastify';
import { BrokerError } from '../errors/broker-error.js';
import { invalidField, nulPath } from '../domain/validation.js';

/**
 * One guard for every route: a NUL character in a path parameter, in a query parameter (its
 * name or a value) or anywhere in a parsed body (JSON or form, keys and strings) is
 * `400 invalid_request` before the route's handler runs, in that route's own format (its
 * plugin's error handler: a page for browsers, JSON for apps and operators). PostgreSQL stores
 * no NUL in text (22021), so such a value could only end as a 500 wherever it reached a query,
 * and no identifier, filter or field of the broker holds one. `%00` is that character once the
 * URL is decoded, which is what is checked.
 *
 * Headers need no guard: Node's HTTP parser refuses a NUL in them, and what the broker takes
 * from a header into a query (the Host's tenant label, a Basic app id) is shape-checked first.
 *
 * A preValidation hook: after the body is parsed and after each plugin's onRequest hooks (the
 * console's session, the redemption's authentication, the rate limits), none of which queries
 * with those values.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (nulPath(request.params, []) !== undefined || nulPath(request.query, []) !== undefined) {
      throw new BrokerError('invalid_request', { description: 'The request URL contains a NUL character.' });
    }
    const inBody = nulPath(request.body, []);
    if (inBody !== undefined) throw invalidField(inBody, 'must not contain a NUL character');
  });
}
