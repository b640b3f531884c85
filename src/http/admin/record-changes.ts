import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChangeLog } from '../../domain/changes/change-log.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is writing: "admin token", or the console user's identity. */
    changeActor: string;
  }
}

type Params = Record<string, string | undefined>;
type Answer = Record<string, unknown> | undefined;

interface Write {
  resource: string;
  action: string;
  /** The id of what was written, from the route or the answer. */
  id(params: Params, answer: Answer): unknown;
  /** The names of the fields written (default: the body's keys). */
  fields?(body: Record<string, unknown>): string[];
}

const fromParam = (name: string) => (params: Params) => params[name];
const fromAnswer = (name: string) => (_params: Params, answer: Answer) => answer?.[name];
const none = () => [];

/** Every admin route that writes, by method and route; validations and test logins are not writes. */
const WRITES: Record<string, Write> = {
  'POST /admin/tenants': { resource: 'tenant', action: 'create', id: fromAnswer('slug') },
  'PATCH /admin/tenants/:slug': { resource: 'tenant', action: 'update', id: fromParam('slug') },
  'DELETE /admin/tenants/:slug': { resource: 'tenant', action: 'delete', id: fromParam('slug'), fields: none },
  'POST /admin/tenants/:slug/connections': { resource: 'connection', action: 'create', id: fromAnswer('id') },
  'PATCH /admin/connections/:id': { resource: 'connection', action: 'update', id: fromParam('id') },
  'DELETE /admin/connections/:id': { resource: 'connection', action: 'delete', id: fromParam('id'), fields: none },
  'POST /admin/connections/:id/versions': {
    resource: 'connection-version',
    action: 'create',
    id: (params, answer) => `${params.id}/${String(answer?.version)}`,
  },
  'POST /admin/connections/:id/versions/:n/activate': {
    resource: 'connection-version',
    action: 'activate',
    id: (params) => `${params.id}/${params.n}`,
  },
  'POST /admin/tenants/:slug/setup-links': { resource: 'setup-link', action: 'create', id: fromAnswer('id') },
  'DELETE /admin/setup-links/:id': { resource: 'setup-link', action: 'revoke', id: fromParam('id'), fields: none },
  'POST /admin/apps': { resource: 'app', action: 'create', id: fromAnswer('id') },
  'PATCH /admin/apps/:id': { resource: 'app', action: 'update', id: fromParam('id') },
  'DELETE /admin/apps/:id': { resource: 'app', action: 'delete', id: fromParam('id'), fields: none },
  'POST /admin/apps/:id/rotate-secret': {
    resource: 'app',
    action: 'rotate-secret',
    id: fromParam('id'),
    fields: () => ['secret'],
  },
  'POST /admin/tenants/:slug/domains': {
    resource: 'domain',
    action: 'create',
    id: (params, answer) => `${params.slug}/${String(answer?.domain)}`,
  },
  'POST /admin/tenants/:slug/domains/:domain/verify': {
    resource: 'domain',
    action: 'verify',
    id: (params) => `${params.slug}/${params.domain}`,
  },
  'DELETE /admin/tenants/:slug/domains/:domain': {
    resource: 'domain',
    action: 'delete',
    id: (params) => `${params.slug}/${params.domain}`,
    fields: none,
  },
  'POST /admin/webhooks': { resource: 'webhook', action: 'create', id: fromAnswer('id') },
  'PATCH /admin/webhooks/:id': { resource: 'webhook', action: 'update', id: fromParam('id') },
  'DELETE /admin/webhooks/:id': { resource: 'webhook', action: 'delete', id: fromParam('id'), fields: none },
  'POST /admin/webhooks/:id/rotate-secret': {
    resource: 'webhook',
    action: 'rotate-secret',
    id: fromParam('id'),
    fields: () => ['secret'],
  },
};

const bodyKeys = (body: unknown) =>
  body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).sort() : [];

function parseAnswer(payload: unknown): Answer {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined;
  try {
    return JSON.parse(payload) as Answer;
  } catch {
    return undefined;
  }
}

/**
 * Records every successful admin write in the change log (contract v3: GET /admin/changes),
 * before its answer is sent: who, what, which fields (names only, never values), from where.
 * A write whose record fails is still answered (it happened), and the failure is logged.
 */
export function recordChanges(app: FastifyInstance, changes: Pick<ChangeLog, 'record'>): void {
  app.decorateRequest('changeActor', 'admin token');
  app.addHook('onSend', async (request: FastifyRequest, reply, payload) => {
    if (reply.statusCode >= 300) return payload;
    const write = WRITES[`${request.method} ${request.routeOptions.url ?? ''}`];
    if (!write) return payload;
    const params = (request.params ?? {}) as Params;
    const id = write.id(params, parseAnswer(payload));
    try {
      await changes.record({
        actor: request.changeActor,
        resource: write.resource,
        id: String(id),
        action: write.action,
        fields: write.fields ? write.fields(request.body as Record<string, unknown>) : bodyKeys(request.body),
        address: request.ip,
      });
    } catch (error) {
      request.log.error({ err: error, resource: write.resource, id }, 'change not recorded');
    }
    return payload;
  });
}
