import type { FastifyInstance } from 'fastify';
import { BrokerError } from '../../errors/broker-error.js';
import { confirmPage, isConfirmed } from './console-confirm.js';
import { EVERY_TENANT } from './console-forms.js';
import { listField, refusedForm, statusOf, type Req, type RouteKit } from './console-routes.js';

/**
 * The tenants an app form allows: those named, or every tenant (null) when the operator ticked
 * "Every tenant". An emptied list alone is refused beside the field: it would silently let every
 * organisation's people into the app.
 */
function tenantsOf(body: Req['body']): string[] | null {
  const tenants = listField(body?.tenants);
  const every = body?.[EVERY_TENANT] === 'yes';
  const refuse = (message: string) => new BrokerError('invalid_request', { details: [{ path: 'tenants', message }] });
  if (every && tenants.length > 0) throw refuse('name tenants or tick “Every tenant”, not both');
  if (every) return null;
  if (tenants.length === 0) throw refuse('name at least one tenant, or tick “Every tenant” to allow them all');
  return tenants;
}

/** Apps (create, edit, rotate the secret after a confirmation), and the logins and changes lists. */
export function appRoutes(app: FastifyInstance, kit: RouteKit) {
  const { deps, views, page, chromeOf } = kit;
  app.get('/console/apps', async (request, reply) => page(reply, 200, await views.apps(chromeOf(request))));
  app.post('/console/apps', async (request: Req, reply) => {
    try {
      const tenants = tenantsOf(request.body);
      const body = {
        name: request.body?.name,
        returnUrls: listField(request.body?.returnUrls),
        ...(tenants !== null && { tenants }),
      };
      const created = await deps.apps.create(body);
      await views.record(request, 'app', created.id, 'create', Object.keys(body).sort());
      return page(
        reply,
        201,
        await views.apps(chromeOf(request), { rotated: { app: created.id, secret: created.secret } }),
      );
    } catch (error) {
      const form = refusedForm(error, request.body, ['name', 'returnUrls', 'tenants', EVERY_TENANT]);
      return page(reply, statusOf(error), await views.apps(chromeOf(request), { form }));
    }
  });
  app.post('/console/apps/:id', async (request: Req, reply) => {
    try {
      const body = { returnUrls: listField(request.body?.returnUrls), tenants: tenantsOf(request.body) };
      const updated = await deps.apps.update(request.params.id, body);
      await views.record(request, 'app', updated.id, 'update', Object.keys(body).sort());
      return page(reply, 200, await views.apps(chromeOf(request, { notice: `App ${updated.name} is saved.` })));
    } catch (error) {
      const form = refusedForm(error, request.body, ['returnUrls', 'tenants', EVERY_TENANT]);
      return page(reply, statusOf(error), await views.apps(chromeOf(request), { form, editing: request.params.id }));
    }
  });
  app.post('/console/apps/:id/rotate-secret', async (request: Req, reply) => {
    if (!isConfirmed(request.body)) {
      const target = await deps.apps.get(request.params.id);
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: `Rotate the secret of ${target.name}?`,
          breaks:
            `The current secret stops working at once: ${target.name} cannot redeem tickets, so its learners ` +
            'cannot sign in, until it is configured with the new secret (shown once on the next page).',
          action: `/console/apps/${target.id}/rotate-secret`,
          button: `Rotate the secret of ${target.name}`,
          back: '/console/apps',
        }),
      );
    }
    const { secret } = await deps.apps.rotateSecret(request.params.id);
    await views.record(request, 'app', request.params.id, 'rotate-secret', ['secret']);
    return page(reply, 200, await views.apps(chromeOf(request), { rotated: { app: request.params.id, secret } }));
  });
  app.get('/console/logins', async (request, reply) =>
    page(reply, 200, await views.logins(chromeOf(request), request.query)),
  );
  app.get('/console/changes', async (request, reply) =>
    page(reply, 200, await views.changes(chromeOf(request), request.query)),
  );
}
