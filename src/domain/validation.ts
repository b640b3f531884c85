import type { z } from 'zod';
import { BrokerError } from '../errors/broker-error.js';

/**
 * Parses operator or app input; a failure is `400 invalid_request` with one detail per issue.
 * A NUL character anywhere (value or key) is refused first: PostgreSQL stores none in text or
 * JSON, so it could only end as a 500.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const nul = nulPath(input, []);
  if (nul !== undefined) throw invalidField(nul, 'must not contain a NUL character');
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new BrokerError('invalid_request', {
    description: 'The request body is invalid.',
    details: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

/** Where in a parsed JSON value a NUL character is (a dotted path), or undefined. */
export function nulPath(value: unknown, path: string[]): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path.join('.') : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\0')) return [...path, key.replaceAll('\0', '\\0')].join('.');
    const found = nulPath(item, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
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
