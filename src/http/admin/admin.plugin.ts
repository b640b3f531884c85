import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerTokenMatches } from '../bearer.js';
import type { AppService } from '../../domain/apps/app.service.js';
import type { LoginAuditService } from '../../domain/audit/login-audit.service.js';
import type { TestLoginService } from '../../domain/login/test-login.service.js';
import type { ConnectionVersionService } from '../../domain/connections/connection-version.service.js';
import type { ConnectionService } from '../../domain/connections/connection.service.js';
import type { ChangeLog } from '../../domain/changes/change-log.service.js';
import type { DomainService } from '../../domain/domains/domain.service.js';
import type { EventFeed } from '../../domain/events/event-feed.service.js';
import type { WebhookService } from '../../domain/webhooks/webhook.service.js';
import type { ExpiringCredentials } from '../../domain/expiring/expiring-credentials.js';
import type { SetupLinkService } from '../../domain/setup-links/setup-link.service.js';
import type { TenantService } from '../../domain/tenants/tenant.service.js';
import { BrokerError } from '../../errors/broker-error.js';
import { jsonErrorHandler } from '../errors.js';
import { limitRequests } from '../rate-limit.js';
import { recordChanges } from './record-changes.js';

export interface AdminDeps {
  adminToken: string | undefined;
  tenants: TenantService;
  connections: ConnectionService;
  versions: ConnectionVersionService;
  setupLinks: SetupLinkService;
  expiring: ExpiringCredentials;
  changes: ChangeLog;
  events: EventFeed;
  domains: DomainService;
  webhooks: WebhookService;
  apps: AppService;
  audit: LoginAuditService;
  testLogin: TestLoginService;
  rateLimitPerMinute: number;
}

type Params<K extends string> = FastifyRequest<{ Params: Record<K, string> }>;

/** Operators: tenants, connections, apps. Bearer ADMIN_TOKEN on every route of this plugin. */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps) {
  app.setErrorHandler(jsonErrorHandler);
  await limitRequests(app, deps.rateLimitPerMinute);
  app.addHook('onRequest', async (request) => {
    if (deps.adminToken === undefined) throw new BrokerError('admin_disabled');
    if (!bearerTokenMatches(request.headers.authorization, deps.adminToken)) throw new BrokerError('unauthorized');
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  recordChanges(app, deps.changes);

  // Tenants
  app.post('/admin/tenants', async (request, reply) => reply.code(201).send(await deps.tenants.create(request.body)));
  app.get('/admin/tenants', async () => deps.tenants.list());
  app.get('/admin/tenants/:slug', async (request: Params<'slug'>) => deps.tenants.get(request.params.slug));
  app.patch('/admin/tenants/:slug', async (request: Params<'slug'>) =>
    deps.tenants.update(request.params.slug, request.body),
  );
  app.delete('/admin/tenants/:slug', async (request: Params<'slug'>, reply) => {
    await deps.tenants.delete(request.params.slug);
    return reply.code(204).send();
  });
  app.get('/admin/tenants/:slug/logins', async (request: Params<'slug'>) =>
    deps.audit.list(request.params.slug, request.query),
  );

  // Verified domains (contract v4)
  type DomainParams = FastifyRequest<{ Params: { slug: string; domain: string } }>;
  app.get('/admin/tenants/:slug/domains', async (request: Params<'slug'>) => deps.domains.list(request.params.slug));
  app.post('/admin/tenants/:slug/domains', async (request: Params<'slug'>, reply) =>
    reply.code(201).send(await deps.domains.add(request.params.slug, request.body)),
  );
  app.post('/admin/tenants/:slug/domains/:domain/verify', async (request: DomainParams) =>
    deps.domains.verify(request.params.slug, request.params.domain, request.body, { mayForce: true }),
  );
  app.delete('/admin/tenants/:slug/domains/:domain', async (request: DomainParams, reply) => {
    await deps.domains.remove(request.params.slug, request.params.domain);
    return reply.code(204).send();
  });

  // Connections
  app.post('/admin/tenants/:slug/connections', async (request: Params<'slug'>, reply) =>
    reply.code(201).send(await deps.connections.create(request.params.slug, request.body)),
  );
  app.get('/admin/tenants/:slug/connections', async (request: Params<'slug'>) =>
    deps.connections.list(request.params.slug),
  );
  app.get('/admin/connections/:id', async (request: Params<'id'>) => deps.connections.get(request.params.id));
  app.patch('/admin/connections/:id', async (request: Params<'id'>) =>
    deps.connections.update(request.params.id, request.body),
  );
  app.delete('/admin/connections/:id', async (request: Params<'id'>, reply) => {
    await deps.connections.delete(request.params.id);
    return reply.code(204).send();
  });
  app.post('/admin/connections/:id/test-login', async (request: Params<'id'>) =>
    deps.testLogin.create(request.params.id),
  );
  app.post('/admin/connections/:id/validate', async (request: Params<'id'>) =>
    deps.connections.validate(request.params.id),
  );

  // Connection versions (contract v3)
  app.get('/admin/connections/:id/versions', async (request: Params<'id'>) => deps.versions.list(request.params.id));
  app.post('/admin/connections/:id/versions', async (request: Params<'id'>, reply) =>
    reply.code(201).send(await deps.versions.draftByAdmin(request.params.id, request.body)),
  );
  app.post('/admin/connections/:id/versions/:n/validate', async (request: Params<'id' | 'n'>) =>
    deps.versions.validate(request.params.id, request.params.n),
  );
  app.post('/admin/connections/:id/versions/:n/test-login', async (request: Params<'id' | 'n'>) =>
    deps.testLogin.create(request.params.id, request.params.n),
  );
  app.post('/admin/connections/:id/versions/:n/activate', async (request: Params<'id' | 'n'>) =>
    deps.versions.activateByAdmin(request.params.id, request.params.n, request.body),
  );

  // Setup links (contract v3)
  app.post('/admin/tenants/:slug/setup-links', async (request: Params<'slug'>, reply) =>
    reply.code(201).send(await deps.setupLinks.create(request.params.slug, request.body)),
  );
  app.get('/admin/tenants/:slug/setup-links', async (request: Params<'slug'>) =>
    deps.setupLinks.list(request.params.slug),
  );
  app.delete('/admin/setup-links/:id', async (request: Params<'id'>, reply) => {
    await deps.setupLinks.revoke(request.params.id);
    return reply.code(204).send();
  });

  // Who changed what (contract v3)
  app.get('/admin/changes', async (request) => deps.changes.list(request.query));

  // Events and webhooks (contract v4)
  app.get('/admin/events', async (request) => deps.events.list(request.query));
  app.post('/admin/webhooks', async (request, reply) => reply.code(201).send(await deps.webhooks.create(request.body)));
  app.get('/admin/webhooks', async () => deps.webhooks.list());
  app.get('/admin/webhooks/:id', async (request: Params<'id'>) => deps.webhooks.get(request.params.id));
  app.patch('/admin/webhooks/:id', async (request: Params<'id'>) =>
    deps.webhooks.update(request.params.id, request.body),
  );
  app.delete('/admin/webhooks/:id', async (request: Params<'id'>, reply) => {
    await deps.webhooks.delete(request.params.id);
    return reply.code(204).send();
  });
  app.post('/admin/webhooks/:id/rotate-secret', async (request: Params<'id'>) =>
    deps.webhooks.rotateSecret(request.params.id),
  );
  app.post('/admin/webhooks/:id/test', async (request: Params<'id'>, reply) => {
    await deps.webhooks.test(request.params.id);
    return reply.code(202).send();
  });
  app.get('/admin/webhooks/:id/deliveries', async (request: Params<'id'>) =>
    deps.webhooks.deliveries(request.params.id, request.query),
  );
  app.post(
    '/admin/webhooks/:id/deliveries/:event/retry',
    async (request: FastifyRequest<{ Params: { id: string; event: string } }>, reply) => {
      await deps.webhooks.retry(request.params.id, request.params.event);
      return reply.code(202).send();
    },
  );

  // Expiring credentials (contract v3)
  app.get('/admin/expiring', async (request) => deps.expiring.list(request.query));

  // Apps
  app.post('/admin/apps', async (request, reply) => reply.code(201).send(await deps.apps.create(request.body)));
  app.get('/admin/apps', async () => deps.apps.list());
  app.get('/admin/apps/:id', async (request: Params<'id'>) => deps.apps.get(request.params.id));
  app.patch('/admin/apps/:id', async (request: Params<'id'>) => deps.apps.update(request.params.id, request.body));
  app.delete('/admin/apps/:id', async (request: Params<'id'>, reply) => {
    await deps.apps.delete(request.params.id);
    return reply.code(204).send();
  });
  app.post('/admin/apps/:id/rotate-secret', async (request: Params<'id'>) => deps.apps.rotateSecret(request.params.id));
}
