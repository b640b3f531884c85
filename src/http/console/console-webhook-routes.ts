import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebhookService } from '../../domain/webhooks/webhook.service.js';
import { isBrokerError } from '../../errors/broker-error.js';
import { confirmPage, isConfirmed } from './console-confirm.js';
import { fieldErrors, typedValues, type FormState } from './console-forms.js';
import type { Chrome } from './console-layout.js';
import type { RouteKit } from './console-routes.js';
import { webhooksPage, type EndpointSummary, type FreshSecret } from './console-webhooks-page.js';

/** What the console does with webhook endpoints: what the admin API does, through the same service. */
export type ConsoleWebhooks = Pick<
  WebhookService,
  'create' | 'list' | 'get' | 'update' | 'delete' | 'rotateSecret' | 'test' | 'deliveries' | 'retry'
>;

type HookReq = FastifyRequest<{
  Params: { id: string; event: string };
  Body: Record<string, unknown> | undefined;
}>;

/** How many of each endpoint's latest attempts the page lists (the admin API pages further). */
const LATEST = 5;

/** The ticked event types: one checkbox posts a string, several an array. */
function eventsOf(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === 'string');
}

/** The create form as the admin API takes it: optional fields left out when empty. */
function createBody(body: HookReq['body']) {
  const text = (name: string) => {
    const value = body?.[name];
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const app = text('app');
  const description = text('description');
  return { url: text('url'), events: eventsOf(body?.events), ...(app && { app }), ...(description && { description }) };
}

/** A refused create form, shown again with what was typed and ticked; any other error goes on. */
function refusedCreate(error: unknown, body: HookReq['body']): FormState {
  const errors = fieldErrors(error);
  if (!errors) throw error;
  return {
    values: { ...typedValues(body, ['url', 'description', 'app']), events: eventsOf(body?.events).join(',') },
    errors,
  };
}

/**
 * Webhook endpoints (contract v4): the list with each endpoint's latest deliveries, create (the
 * secret shown once), send a test event, retry a delivery, enable again, rotate the secret and
 * delete (both confirmed first). Writes are recorded as the admin API's (resource `webhook`);
 * a test event and a retry change no configuration, as there.
 */
export function webhookRoutes(app: FastifyInstance, kit: RouteKit) {
  const { deps, views, page, seeOther, chromeOf } = kit;
  const back = (id: string) => `/console/webhooks#hook-${id}`;
  const done = (id: string, code: string) => `/console/webhooks?done=${code}#hook-${id}`;

  async function endpoints(): Promise<EndpointSummary[]> {
    const list = await deps.webhooks.list();
    return Promise.all(
      list.map(async (endpoint) => {
        const deliveries = await deps.webhooks
          .deliveries(endpoint.id, { limit: String(LATEST) })
          .then((answer) => answer.deliveries)
          .catch((error: unknown) => {
            // Deleted since it was listed (by another operator): nothing to show.
            if (isBrokerError(error) && error.code === 'not_found') return [];
            throw error;
          });
        return { endpoint, deliveries };
      }),
    );
  }
  async function render(chrome: Chrome, options: { fresh?: FreshSecret; form?: FormState } = {}) {
    const [list, apps] = await Promise.all([endpoints(), deps.apps.list()]);
    return webhooksPage(chrome, { endpoints: list, apps: new Map(apps.map((a) => [a.id, a])) }, options);
  }

  app.get('/console/webhooks', async (request, reply) => page(reply, 200, await render(chromeOf(request))));
  app.post('/console/webhooks', async (request: HookReq, reply) => {
    const body = createBody(request.body);
    try {
      const created = await deps.webhooks.create(body);
      await views.record(request, 'webhook', created.id, 'create', Object.keys(body).sort());
      const fresh = { endpoint: created.id, secret: created.secret, rotated: false };
      return page(reply, 201, await render(chromeOf(request), { fresh }));
    } catch (error) {
      const form = refusedCreate(error, request.body);
      return page(reply, 400, await render(chromeOf(request), { form }));
    }
  });
  app.post('/console/webhooks/:id/test', async (request: HookReq, reply) => {
    await deps.webhooks.test(request.params.id);
    return seeOther(reply, done(request.params.id, 'test-sent'));
  });
  app.post('/console/webhooks/:id/deliveries/:event/retry', async (request: HookReq, reply) => {
    await deps.webhooks.retry(request.params.id, request.params.event);
    return seeOther(reply, done(request.params.id, 'retry-sent'));
  });
  app.post('/console/webhooks/:id/enable', async (request: HookReq, reply) => {
    const body = { enabled: true };
    await deps.webhooks.update(request.params.id, body);
    await views.record(request, 'webhook', request.params.id, 'update', Object.keys(body));
    return seeOther(reply, done(request.params.id, 'webhook-enabled'));
  });
  app.post('/console/webhooks/:id/rotate-secret', async (request: HookReq, reply) => {
    const { id } = request.params;
    if (!isConfirmed(request.body)) {
      const target = await deps.webhooks.get(id);
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: 'Rotate this endpoint’s secret?',
          breaks:
            `A new secret (shown once on the next page) signs every delivery to ${target.url} from now on. The ` +
            'current one signs beside it for 24 hours more, then stops: configure the receiver with the new ' +
            'secret before then, or it refuses every delivery as forged.',
          action: `/console/webhooks/${id}/rotate-secret`,
          button: 'Rotate the secret',
          back: back(id),
        }),
      );
    }
    const { secret } = await deps.webhooks.rotateSecret(id);
    await views.record(request, 'webhook', id, 'rotate-secret', ['secret']);
    return page(reply, 200, await render(chromeOf(request), { fresh: { endpoint: id, secret, rotated: true } }));
  });
  app.post('/console/webhooks/:id/delete', async (request: HookReq, reply) => {
    const { id } = request.params;
    if (!isConfirmed(request.body)) {
      const target = await deps.webhooks.get(id);
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: 'Delete this webhook endpoint?',
          breaks:
            `${target.url} receives no event from now on, not even the deliveries still being retried, and its ` +
            'delivery history is deleted with it. To receive events again, create a new endpoint (with a new secret).',
          action: `/console/webhooks/${id}/delete`,
          button: 'Delete the endpoint',
          back: back(id),
        }),
      );
    }
    await deps.webhooks.delete(id);
    await views.record(request, 'webhook', id, 'delete', []);
    return seeOther(reply, '/console/webhooks?done=webhook-deleted');
  });
}
