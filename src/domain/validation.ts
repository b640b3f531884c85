import type { z } from 'zod';
import { BrokerError } from '../errors/broker-error.js';

/** Parses operator or app input; a failure is `400 invalid_request` with one detail per issue. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new BrokerError('invalid_request', {
    description: 'The request body is invalid.',
    details: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

export function invalidField(path: string, message: string): BrokerError {
  return new BrokerError('invalid_request', {
    description: 'The request body is invalid.',
    details: [{ path, message }],
  });
}

/** Parses a browser request's query; a failure is `400 invalid_request` naming the parameters. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const names = result.error.issues.map((issue) => issue.path.join('.'));
  throw new BrokerError('invalid_request', { description: `Invalid or missing parameter: ${names.join(', ')}.` });
}
