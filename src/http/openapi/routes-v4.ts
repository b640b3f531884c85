import { z } from 'zod';
import { discoverQuerySchema } from '../../domain/domains/discovery.service.js';
import { addDomainSchema, verifyDomainSchema } from '../../domain/domains/domain.service.js';
import { eventsQuerySchema } from '../../domain/events/event-feed.service.js';
import {
  createWebhookSchema,
  deliveriesQuerySchema,
  patchWebhookSchema,
} from '../../domain/webhooks/webhook.schema.js';
import * as domains from './domain-answers.js';
import * as events from './event-answers.js';
import { admin, empty, errors, id, slug, type RouteDoc } from './route-doc.js';

/** The routes contract v4 added ("After sign-in"): events, webhooks, verified domains, discovery. */
export const V4_ROUTE_DOCS: Record<string, RouteDoc> = {
  // Verified domains
  'GET /admin/tenants/:slug/domains': admin('tenants', 'A tenant’s domains, verified or not, with their TXT records', {
    params: slug,
    response: { 200: domains.domainsAnswer },
  }),
  'POST /admin/tenants/:slug/domains': admin('tenants', 'Claim a domain for a tenant (unverified)', {
    params: slug,
    body: addDomainSchema,
    response: { 201: domains.domainAnswer },
  }),
  'POST /admin/tenants/:slug/domains/:domain/verify': admin('tenants', 'Verify a domain by its DNS TXT record', {
    params: z.object({ slug: z.string(), domain: z.string() }),
    body: verifyDomainSchema,
    response: { 200: domains.domainAnswer },
  }),
  'DELETE /admin/tenants/:slug/domains/:domain': admin('tenants', 'Remove a tenant’s domain', {
    params: z.object({ slug: z.string(), domain: z.string() }),
    response: { 204: empty },
  }),

  // Events and webhooks
  'GET /admin/events': admin('events', 'Events, oldest first after a cursor (kept 30 days)', {
    querystring: eventsQuerySchema,
    response: { 200: events.eventsAnswer },
  }),
  'POST /admin/webhooks': admin('events', 'Create a webhook endpoint (its secret is in this answer only)', {
    body: createWebhookSchema,
    response: { 201: events.webhookCreatedAnswer },
  }),
  'GET /admin/webhooks': admin('events', 'List webhook endpoints', {
    response: { 200: z.array(events.webhookAnswer) },
  }),
  'GET /admin/webhooks/:id': admin('events', 'Read a webhook endpoint', {
    params: id,
    response: { 200: events.webhookAnswer },
  }),
  'PATCH /admin/webhooks/:id': admin('events', 'Change a webhook endpoint, or enable it again', {
    params: id,
    body: patchWebhookSchema,
    response: { 200: events.webhookAnswer },
  }),
  'DELETE /admin/webhooks/:id': admin('events', 'Delete a webhook endpoint', { params: id, response: { 204: empty } }),
  'POST /admin/webhooks/:id/rotate-secret': admin('events', 'A new signing secret; the old one signs too for 24 h', {
    params: id,
    response: { 200: events.webhookSecretAnswer },
  }),
  'POST /admin/webhooks/:id/test': admin('events', 'Send a webhook.test event to this endpoint', {
    params: id,
    response: { 202: empty },
  }),
  'GET /admin/webhooks/:id/deliveries': admin('events', 'The endpoint’s latest delivery attempts, newest first', {
    params: id,
    querystring: deliveriesQuerySchema,
    response: { 200: events.deliveriesAnswer },
  }),
  'POST /admin/webhooks/:id/deliveries/:event/retry': admin('events', 'Deliver an event to this endpoint again, now', {
    params: z.object({ id: z.string(), event: z.string().describe('The event id') }),
    response: { 202: empty },
  }),
  'GET /api/sso/discover': {
    summary: 'Is there single sign-on for this email address? (Continue with SSO)',
    tags: ['relying apps'],
    security: [{ appBasic: [] }],
    querystring: discoverQuerySchema,
    response: { 200: domains.discoverAnswer, ...errors(401, 429, 503) },
  },
};
