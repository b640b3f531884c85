import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { commaList } from '../../config/env.schema.js';
import { isBrokerError } from '../../errors/broker-error.js';
import { spaceList } from '../../domain/login/start/step-up.js';
import { continueToIdp } from '../browser/continue-to-idp.js';
import { confirmPage, isConfirmed } from './console-confirm.js';
import { fieldErrors, typedValues, type FormState } from './console-forms.js';
import type { Chrome } from './console-layout.js';
import type { ConsoleDeps } from './console.plugin.js';
import type { consoleViews } from './console-views.js';

export type Req = FastifyRequest<{
  Params: { id: string; n: string; slug: string };
  Body: Record<string, unknown> | undefined;
}>;

/** What the console's route groups share: its services, views, and how it answers. */
export interface RouteKit {
  deps: ConsoleDeps;
  views: ReturnType<typeof consoleViews>;
  page(reply: FastifyReply, status: number, html: string): FastifyReply;
  seeOther(reply: FastifyReply, location: string): FastifyReply;
  chromeOf(request: FastifyRequest, extra?: Partial<Chrome>): Chrome;
}

/** A comma-separated form field as a list. */
export const listField = (value: unknown) => (typeof value === 'string' ? commaList(value) : []);

/** Where a revoke may send the operator back to: a console page of a tenant or connection, nothing else. */
const BACK = /^\/console(?:\/tenants\/[a-z0-9-]{1,63}|\/connections\/[0-9a-f-]{36})?$/;

/** A refused form shown again (400, or 409 for a taken slug or domain) with what was typed; other errors go on. */
export const refusedForm = (error: unknown, body: Req['body'], names: string[]): FormState => {
  const errors =
    fieldErrors(error) ?? (isBrokerError(error) && error.code === 'conflict' ? { form: error.description } : undefined);
  if (!errors) throw error;
  return { values: typedValues(body, names), errors };
};
export const statusOf = (error: unknown) => (isBrokerError(error) ? error.status : 400);
/** A setup link's options from its form: the note, and how long it stays valid. */
const linkOptions = (body: Req['body']) => {
  const note = typeof body?.note === 'string' ? body.note.trim() : '';
  const hours = typeof body?.expiresInHours === 'string' ? body.expiresInHours : '';
  return {
    ...(note && { note }),
    ...(hours && { expiresInHours: /^\d{1,6}$/.test(hours) ? Number(hours) : hours }),
  } as { note?: string; expiresInHours?: number };
};

/** Tenants, their setup links, connections and versions. */
export function tenantRoutes(app: FastifyInstance, kit: RouteKit) {
  const { deps, views, page, seeOther, chromeOf } = kit;
  app.get('/console', async (request, reply) => page(reply, 200, await views.tenants(chromeOf(request))));
  app.post('/console/tenants', async (request: Req, reply) => {
    const domains = listField(request.body?.domains);
    const body = { slug: request.body?.slug, name: request.body?.name, ...(domains.length > 0 && { domains }) };
    try {
      const tenant = await deps.tenants.create(body);
      await views.record(request, 'tenant', tenant.slug, 'create', Object.keys(body).sort());
      const notice = `Tenant ${tenant.name} created: open it to send its IT team a setup link.`;
      return page(reply, 201, await views.tenants(chromeOf(request, { notice })));
    } catch (error) {
      const form = refusedForm(error, request.body, ['slug', 'name', 'domains']);
      return page(reply, statusOf(error), await views.tenants(chromeOf(request), form));
    }
  });
  app.get('/console/tenants/:slug', async (request: Req, reply) =>
    page(reply, 200, await views.tenant(chromeOf(request), request.params.slug)),
  );
  app.post('/console/tenants/:slug', async (request: Req, reply) => {
    const body = { name: request.body?.name, domains: listField(request.body?.domains) };
    try {
      await deps.tenants.update(request.params.slug, body);
      await views.record(request, 'tenant', request.params.slug, 'update', Object.keys(body).sort());
      const chrome = chromeOf(request, { notice: 'The tenant is saved.' });
      return page(reply, 200, await views.tenant(chrome, request.params.slug));
    } catch (error) {
      const form = refusedForm(error, request.body, ['name', 'domains']);
      return page(reply, statusOf(error), await views.tenant(chromeOf(request), request.params.slug, { form }));
    }
  });
  app.post('/console/tenants/:slug/setup-links', async (request: Req, reply) => {
    const link = await views.createLink(request, request.params.slug, undefined, linkOptions(request.body));
    return page(reply, 201, await views.tenant(chromeOf(request), request.params.slug, { newLink: link }));
  });
  app.get('/console/connections/:id', async (request: Req, reply) =>
    page(reply, 200, await views.connection(chromeOf(request), request.params.id)),
  );
  app.post('/console/connections/:id/settings', async (request: Req, reply) => {
    const { id } = request.params;
    const body = { enabled: request.body?.enabled === 'yes', isDefault: request.body?.isDefault === 'yes' };
    const current = await deps.connections.get(id);
    if (current.enabled && !body.enabled && !isConfirmed(request.body)) {
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: 'Disable this connection?',
          breaks:
            `Nobody of tenant ${current.tenant} can sign in through ${current.issuer} until it is enabled again, ` +
            'and sign-ins in progress with it fail.',
          action: `/console/connections/${id}/settings`,
          fields: { ...(body.isDefault && { isDefault: 'yes' }) },
          button: 'Disable the connection',
          back: `/console/connections/${id}`,
        }),
      );
    }
    await deps.connections.update(id, body);
    await views.record(request, 'connection', id, 'update', Object.keys(body).sort());
    return seeOther(reply, `/console/connections/${id}?done=switched`);
  });
  // A change of IdP settings is a version: drafted here, then tested and activated as any other.
  app.post('/console/connections/:id/acr-values', async (request: Req, reply) => {
    const { id } = request.params;
    const raw = request.body?.acrValues;
    try {
      const draft = await deps.versions.draftByAdmin(id, { acrValues: typeof raw === 'string' ? spaceList(raw) : raw });
      await views.record(request, 'connection-version', `${id}/${draft.version}`, 'create', ['acrValues']);
    } catch (error) {
      if (!isBrokerError(error) || error.code !== 'invalid_request') throw error;
      const error_ = `Required ACR values: ${error.description} At most 10, each 1–200 printable characters.`;
      return page(reply, 400, await views.connection(chromeOf(request, { error: error_ }), id));
    }
    return seeOther(reply, `/console/connections/${id}?done=drafted`);
  });
  app.post('/console/connections/:id/validate', async (request: Req, reply) => {
    const report = await deps.versions.validate(request.params.id, await views.activeVersion(request.params.id));
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.message);
    const chrome = failed.length
      ? chromeOf(request, { error: `Validation failed: ${failed.join('; ')}` })
      : chromeOf(request, { notice: 'Validation: every check passed.' });
    return page(reply, 200, await views.connection(chrome, request.params.id));
  });
  app.post('/console/connections/:id/versions/:n/activate', async (request: Req, reply) => {
    const { id, n } = request.params;
    if (!isConfirmed(request.body)) {
      // Only a version that exists is offered: any other answers the console's 404 page.
      await deps.versions.require(id, n);
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: `Activate version ${n}?`,
          breaks:
            `Every new sign-in through this connection uses the IdP settings of version ${n} at once, on every ` +
            'server; sign-ins already at the IdP with the current settings must start again.',
          action: `/console/connections/${id}/versions/${n}/activate`,
          button: `Activate version ${n}`,
          back: `/console/connections/${id}`,
        }),
      );
    }
    await deps.versions.activate(id, n, { force: false, by: chromeOf(request).actor });
    await views.record(request, 'connection-version', `${id}/${n}`, 'activate', []);
    return seeOther(reply, `/console/connections/${id}?done=activated`);
  });
  app.post('/console/connections/:id/versions/:n/test-login', async (request: Req, reply) => {
    const browser = { host: request.host, cookies: request.cookies, requestId: request.id };
    const started = await deps.testLogin.startHere(request.params.id, request.params.n, browser);
    return continueToIdp(reply, started, deps.secureCookies);
  });
  app.post('/console/connections/:id/setup-links', async (request: Req, reply) => {
    const { id } = request.params;
    const link = await views.createLink(request, await views.connectionTenant(id), id, linkOptions(request.body));
    return page(reply, 201, await views.connection(chromeOf(request), id, link));
  });
  app.post('/console/setup-links/:id/revoke', async (request: Req, reply) => {
    const back =
      typeof request.body?.back === 'string' && BACK.test(request.body.back) ? request.body.back : '/console';
    if (!isConfirmed(request.body)) {
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: 'Revoke this setup link?',
          breaks:
            'Its page stops working at once for whoever holds it: an IdP engineer in the middle of the setup ' +
            'cannot save, test or activate any more. What they saved stays; a new link can continue from there.',
          action: `/console/setup-links/${request.params.id}/revoke`,
          fields: { back },
          button: 'Revoke the setup link',
          back,
        }),
      );
    }
    await deps.setupLinks.revoke(request.params.id);
    await views.record(request, 'setup-link', request.params.id, 'revoke', []);
    return seeOther(reply, `${back}?done=revoked`);
  });
}
