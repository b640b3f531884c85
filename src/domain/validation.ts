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

/** How deep a request's parsed input may nest: nothing the broker takes goes past a few levels. */
export const MAX_INPUT_DEPTH = 32;

interface Frame {
  value: unknown;
  depth: number;
  parent?: Frame;
  key?: string;
}

/**
 * Where in a parsed JSON value a NUL character is (a dotted path after `path`), or undefined.
 * Walked with a stack of its own, never by recursion, and the path is built only for the NUL it
 * finds: a hostile body nested thousands deep (a few KiB of `[[[[…`) must neither overflow the
 * call stack (a 500) nor cost time growing with the square of its depth (a stalled event loop).
 * Input nested deeper than MAX_INPUT_DEPTH is refused outright (`400 invalid_request`).
 */
export function nulPath(value: unknown, path: string[]): string | undefined {
  const stack: Frame[] = [{ value, depth: 0 }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const current = frame.value;
    if (typeof current === 'string') {
      if (current.includes('\0')) return pathOf(frame, path);
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (frame.depth >= MAX_INPUT_DEPTH) {
      throw new BrokerError('invalid_request', {
        description: `The request nests deeper than ${MAX_INPUT_DEPTH} levels.`,
      });
    }
    for (const [key, item] of Object.entries(current)) {
      if (key.includes('\0'))
        return pathOf({ value: item, depth: 0, parent: frame, key: key.replaceAll('\0', '\\0') }, path);
      stack.push({ value: item, depth: frame.depth + 1, parent: frame, key });
    }
  }
  return undefined;
}

function pathOf(frame: Frame, prefix: string[]): string {
  const keys: string[] = [];
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return [...prefix, ...keys.reverse()].join('.');
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
