import Fastify from 'fastify';
import { openApi } from './openapi.plugin.js';
import { ROUTE_DOCS } from './routes.js';

/**
 * The OpenAPI document without a running broker (no database): every documented route as a
 * stub, through the same plugin and route table as the broker. scripts/openapi/generate.mjs
 * makes the demo app's client types from it; openapi.test.ts checks it equals the served one.
 */
export async function buildOpenApiDocument(options: { publicUrl: string; version: string }) {
  const app = Fastify({ logger: false });
  await openApi(app, options);
  for (const key of Object.keys(ROUTE_DOCS)) {
    const [method, url] = key.split(' ') as [string, string];
    app.route({ method: method as 'GET', url, handler: async () => ({}) });
  }
  await app.ready();
  const document = app.swagger();
  await app.close();
  return document;
}
