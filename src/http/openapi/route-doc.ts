import { z } from 'zod';
import * as answer from './answers.js';

/**
 * The OpenAPI description of every route of the admin API and the relying apps' API, by
 * "METHOD /url" (routes.ts, routes-v4.ts), and the shapes those descriptions share.
 */
export interface RouteDoc {
  summary: string;
  tags: string[];
  security?: Record<string, string[]>[];
  params?: z.ZodType;
  querystring?: z.ZodType;
  headers?: z.ZodType;
  body?: z.ZodType;
  response: Record<number, z.ZodType>;
}

export const slug = z.object({ slug: z.string() });
export const id = z.object({ id: z.string() });
export const version = z.object({ id: z.string(), n: z.string().describe('The version number') });
export const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, answer.errorAnswer]));
export const empty = z.null().describe('No content');

export function admin(tag: string, summary: string, doc: Omit<RouteDoc, 'summary' | 'tags' | 'security'>): RouteDoc {
  return {
    summary,
    tags: [tag],
    security: [{ adminToken: [] }],
    ...doc,
    response: { ...doc.response, ...errors(400, 401, 404, 409, 429, 503) },
  };
}
