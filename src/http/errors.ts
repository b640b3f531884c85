import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { BrokerError, isBrokerError } from '../errors/broker-error.js';

/** How long a client is told to wait when the database is away, seconds. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Turns anything thrown in a route into a BrokerError: ours as they are, the database being away
 * → temporarily_unavailable (503), Fastify's own 4xx (bad JSON, too large, wrong media type)
 * by status, anything else is a bug → internal_error.
 */
export function toBrokerError(error: unknown): BrokerError {
  if (isBrokerError(error)) return error;
  // The database is away (restarting, down): a transient 503, not a bug.
  if (isDatabaseUnavailable(error)) return new BrokerError('temporarily_unavailable', { cause: error });
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode ?? 500;
  if (status === 413) return new BrokerError('payload_too_large', { cause: error });
  if (status === 415) return new BrokerError('unsupported_media_type', { cause: error });
  if (status === 429) return new BrokerError('rate_limited', { cause: error });
  if (status >= 400 && status < 500) {
    return new BrokerError('invalid_request', { description: 'The request could not be read.', cause: error });
  }
  return new BrokerError('internal_error', { cause: error });
}

export function errorBody(error: BrokerError, requestId: string) {
  return {
    error: error.code,
    error_description: error.description,
    ...(error.details !== undefined && { details: error.details }),
    request_id: requestId,
  };
}

/** Logs at the right level: a 5xx is ours to fix, a 4xx is the caller's. Never the request body. */
export function logError(request: FastifyRequest, error: BrokerError): void {
  const cause = error.cause instanceof Error ? { type: error.cause.name, message: error.message } : undefined;
  if (error.status >= 500 && error.code === 'internal_error') {
    request.log.error({ err: error.cause ?? error, code: error.code }, 'request failed');
  } else {
    request.log.info({ code: error.code, status: error.status, ...(cause && { cause }) }, error.message);
  }
}

/** JSON error handler for the server-to-server audiences (apps, admin). */
export function jsonErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const brokerError = toBrokerError(error);
  logError(request, brokerError);
  return reply.code(brokerError.status).type('application/json').send(errorBody(brokerError, request.id));
}
