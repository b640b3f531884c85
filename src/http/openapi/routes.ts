import { z } from 'zod';
import { createAppSchema, patchAppSchema } from '../../domain/apps/app.schema.js';
import { listQuerySchema as loginsQuery } from '../../domain/audit/login-audit.service.js';
import { changesQuerySchema } from '../../domain/changes/change-log.service.js';
import { activateSchema } from '../../domain/connections/connection-version.service.js';
import {
  createConnectionSchema,
  draftVersionSchema,
  patchConnectionSchema,
} from '../../domain/connections/connection.schema.js';
import { expiringQuerySchema } from '../../domain/expiring/expiring-credentials.js';
import { logoutQuerySchema } from '../../domain/sessions/logout.service.js';
import { createSetupLinkSchema } from '../../domain/setup-links/setup-link.service.js';
import { createTenantSchema, patchTenantSchema } from '../../domain/tenants/tenant.schema.js';
import * as answer from './answers.js';
import { admin, empty, errors, id, slug, version, type RouteDoc } from './route-doc.js';
import { V4_ROUTE_DOCS } from './routes-v4.js';

export type { RouteDoc } from './route-doc.js';

/**
 * The OpenAPI description of every route of the admin API and the relying apps' API, by
 * "METHOD /url". Request schemas are the very zod schemas the services validate with
 * (parseInput), so the document cannot describe another API than the one that runs; a route
 * in those APIs without an entry here stops the broker from starting (openapi.plugin.ts).
 */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  ...V4_ROUTE_DOCS,
  // Tenants
  'POST /admin/tenants': admin('tenants', 'Create a tenant', {
    body: createTenantSchema,
    response: { 201: answer.tenantAnswer },
  }),
  'GET /admin/tenants': admin('tenants', 'List tenants', { response: { 200: z.array(answer.tenantAnswer) } }),
  'GET /admin/tenants/:slug': admin('tenants', 'Read a tenant', {
    params: slug,
    response: { 200: answer.tenantAnswer },
  }),
  'PATCH /admin/tenants/:slug': admin('tenants', 'Change a tenant', {
    params: slug,
    body: patchTenantSchema,
    response: { 200: answer.tenantAnswer },
  }),
  'DELETE /admin/tenants/:slug': admin('tenants', 'Delete a tenant', { params: slug, response: { 204: empty } }),
  'GET /admin/tenants/:slug/logins': admin('tenants', 'The latest login attempts of a tenant', {
    params: slug,
    querystring: loginsQuery,
    response: { 200: answer.loginsAnswer },
  }),

  // Connections and their versions
  'POST /admin/tenants/:slug/connections': admin('connections', 'Create a connection (its version 1)', {
    params: slug,
    body: createConnectionSchema,
    response: { 201: answer.connectionAnswer },
  }),
  'GET /admin/tenants/:slug/connections': admin('connections', 'List a tenant’s connections', {
    params: slug,
    response: { 200: z.array(answer.connectionAnswer) },
  }),
  'GET /admin/connections/:id': admin('connections', 'Read a connection', {
    params: id,
    response: { 200: answer.connectionAnswer },
  }),
  'PATCH /admin/connections/:id': admin('connections', 'Change a connection (drafts and activates a version)', {
    params: id,
    body: patchConnectionSchema,
    response: { 200: answer.connectionAnswer },
  }),
  'DELETE /admin/connections/:id': admin('connections', 'Delete a connection', {
    params: id,
    response: { 204: empty },
  }),
  'POST /admin/connections/:id/validate': admin('connections', 'Validate the active settings', {
    params: id,
    response: { 200: answer.validationAnswer },
  }),
  'POST /admin/connections/:id/test-login': admin('connections', 'A one-time test-login URL (active settings)', {
    params: id,
    response: { 200: answer.testLoginAnswer },
  }),
  'GET /admin/connections/:id/versions': admin('versions', 'List a connection’s versions, newest first', {
    params: id,
    response: { 200: z.object({ versions: z.array(answer.versionAnswer) }) },
  }),
  'POST /admin/connections/:id/versions': admin('versions', 'Draft a version (replaces the draft)', {
    params: id,
    body: draftVersionSchema,
    response: { 201: answer.versionAnswer },
  }),
  'POST /admin/connections/:id/versions/:n/validate': admin('versions', 'Validate a version', {
    params: version,
    response: { 200: answer.validationAnswer },
  }),
  'POST /admin/connections/:id/versions/:n/test-login': admin('versions', 'A one-time test-login URL for a version', {
    params: version,
    response: { 200: answer.testLoginAnswer },
  }),
  'POST /admin/connections/:id/versions/:n/activate': admin('versions', 'Activate a version (or roll back)', {
    params: version,
    body: activateSchema.optional(),
    response: { 200: answer.versionAnswer },
  }),

  // Setup links, expiring credentials, changes
  'POST /admin/tenants/:slug/setup-links': admin('setup links', 'Create a setup link', {
    params: slug,
    body: createSetupLinkSchema,
    response: { 201: answer.setupLinkCreatedAnswer },
  }),
  'GET /admin/tenants/:slug/setup-links': admin('setup links', 'List a tenant’s setup links (never their tokens)', {
    params: slug,
    response: { 200: z.object({ links: z.array(answer.setupLinkAnswer) }) },
  }),
  'DELETE /admin/setup-links/:id': admin('setup links', 'Revoke a setup link', {
    params: id,
    response: { 204: empty },
  }),
  'GET /admin/expiring': admin('operations', 'Credentials expiring within `days`', {
    querystring: expiringQuerySchema,
    response: { 200: answer.expiringAnswer },
  }),
  'GET /admin/changes': admin('operations', 'Who changed what, newest first', {
    querystring: changesQuerySchema,
    response: { 200: answer.changesAnswer },
  }),

  // Apps
  'POST /admin/apps': admin('apps', 'Create an app (its secret is shown once)', {
    body: createAppSchema,
    response: { 201: answer.appAnswer.extend({ secret: z.string() }) },
  }),
  'GET /admin/apps': admin('apps', 'List apps', { response: { 200: z.array(answer.appAnswer) } }),
  'GET /admin/apps/:id': admin('apps', 'Read an app', { params: id, response: { 200: answer.appAnswer } }),
  'PATCH /admin/apps/:id': admin('apps', 'Change an app', {
    params: id,
    body: patchAppSchema,
    response: { 200: answer.appAnswer },
  }),
  'DELETE /admin/apps/:id': admin('apps', 'Delete an app', { params: id, response: { 204: empty } }),
  'POST /admin/apps/:id/rotate-secret': admin('apps', 'A new app secret (shown once)', {
    params: id,
    response: { 200: z.object({ secret: z.string() }) },
  }),

  // Relying apps
  'POST /api/sso/tickets/redeem': {
    summary: 'Redeem a one-time ticket for the identity (exactly once)',
    tags: ['relying apps'],
    security: [{ appBasic: [] }],
    headers: z.object({
      'idempotency-key': z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe('Retries: the same key, from the same app, within 60 s of the first success, gets its answer again'),
    }),
    body: z.object({ ticket: z.string() }),
    response: { 200: answer.redeemAnswer, ...errors(400, 401, 429, 503) },
  },
  'GET /api/sso/logout': {
    summary: 'Sign the browser out at the IdP, then back to the app',
    tags: ['relying apps'],
    querystring: logoutQuerySchema,
    response: { 302: z.null().describe('To the IdP’s end_session_endpoint, or the app'), ...errors(400, 429, 503) },
  },
};
