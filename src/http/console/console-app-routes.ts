import type { FastifyInstance } from 'fastify';
import { confirmPage, isConfirmed } from './console-confirm.js';
import { listField, refusedForm, statusOf, type Req, type RouteKit } from './console-routes.js';

/** Apps (create, edit, rotate the secret after a confirmation), and the logins and changes lists. */
export function appRoutes(app: FastifyInstance, kit: RouteKit) {
  const { deps, views, page, chromeOf } = kit;
  app.get('/console/apps', async (request, reply) => page(reply, 200, await views.apps(chromeOf(request))));
  app.post('/console/apps', async (request: Req, reply) => {
    const tenants = listField(request.body?.tenants);
    const body = {
      name: request.body?.name,
      returnUrls: listField(request.body?.returnUrls),
      ...(tenants.length > 0 && { tenants }),
    };
    try {
      const created = await deps.apps.create(body);
      await views.record(request, 'app', created.id, 'create', Object.keys(body).sort());
      return page(
        reply,
        201,
        await views.apps(chromeOf(request), { rotated: { app: created.id, secret: created.secret } }),
      );
    } catch (error) {
      const form = refusedForm(error, request.body, ['name', 'returnUrls', 'tenants']);
      return page(reply, statusOf(error), await views.apps(chromeOf(request), { form }));
    }
  });
  app.post('/console/apps/:id', async (request: Req, reply) => {
    const tenants = listField(request.body?.tenants);
    const body = { returnUrls: listField(request.body?.returnUrls), tenants: tenants.length > 0 ? tenants : null };
    try {
      const updated = await deps.apps.update(request.params.id, body);
      await views.record(request, 'app', updated.id, 'update', Object.keys(body).sort());
      return page(reply, 200, await views.apps(chromeOf(request, { notice: `App ${updated.name} is saved.` })));
    } catch (error) {
      const form = refusedForm(error, request.body, ['returnUrls', 'tenants']);
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
