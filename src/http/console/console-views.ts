import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppService } from '../../domain/apps/app.service.js';
import type { LoginAuditRepo } from '../../domain/audit/login-audit.repo.js';
import type { ChangeLog } from '../../domain/changes/change-log.service.js';
import type { ConnectionVersionRepo } from '../../domain/connections/connection-version.repo.js';
import type { ConnectionVersionService } from '../../domain/connections/connection-version.service.js';
import type { ConnectionService } from '../../domain/connections/connection.service.js';
import type { ExpiringCredentials } from '../../domain/expiring/expiring-credentials.js';
import type { TestLoginService } from '../../domain/login/test-login.service.js';
import { notFound } from '../../domain/not-found.js';
import type { SetupLinkService } from '../../domain/setup-links/setup-link.service.js';
import type { TenantRepo } from '../../domain/tenants/tenant.repo.js';
import type { TenantService } from '../../domain/tenants/tenant.service.js';
import { parseQuery } from '../../domain/validation.js';
import { html } from '../browser/html.js';
import type { Chrome } from './console-layout.js';
import { appsPage, changesPage, loginsPage } from './console-lists.js';
import { connectionPage, tenantsPage } from './console-pages.js';

/** What the console reads and writes: the services the admin API uses, nothing of its own. */
export interface ConsoleData {
  tenants: Pick<TenantService, 'list' | 'create'>;
  tenantRepo: Pick<TenantRepo, 'findBySlug'>;
  connections: Pick<ConnectionService, 'list' | 'get'>;
  versions: Pick<ConnectionVersionService, 'list' | 'activate' | 'validate'>;
  versionRepo: Pick<ConnectionVersionRepo, 'findActive'>;
  testLogin: Pick<TestLoginService, 'startHere'>;
  setupLinks: Pick<SetupLinkService, 'create' | 'list' | 'revoke'>;
  apps: Pick<AppService, 'list' | 'rotateSecret' | 'create'>;
  audit: Pick<LoginAuditRepo, 'healthSince' | 'search'>;
  changes: Pick<ChangeLog, 'list' | 'record'>;
  expiring: Pick<ExpiringCredentials, 'all'>;
  /** Each connection's mean token-endpoint latency seen by this replica, ms. */
  idpLatencyMs(): Promise<Map<string, number>>;
}

const DAY_MS = 86_400_000;
const text = z.string().trim().max(200).optional();
const loginsQuery = z.object({
  tenant: text,
  connection: text,
  app: text,
  outcome: z.enum(['success', 'failure', '']).optional(),
  error: text,
  request: text,
});
const orUndefined = (value: string | undefined) => (value ? value : undefined);

/** The console's pages, from the services: gathering what each shows, then rendering it. */
export function consoleViews(deps: ConsoleData) {
  const record = (request: FastifyRequest, resource: string, id: string, action: string, fields: string[]) =>
    deps.changes.record({
      actor: request.consoleSession?.actor ?? 'console',
      resource,
      id,
      action,
      fields,
      address: request.ip,
    });

  return {
    record,
    backLink: () => html`<p><a href="/console">Back to the tenants</a></p>`,

    async activeVersion(connectionId: string): Promise<number> {
      const active = await deps.versionRepo.findActive(connectionId);
      if (!active) notFound('connection', connectionId);
      return active.version;
    },

    async createLink(request: FastifyRequest, slug: string, connection: string | undefined): Promise<string> {
      const link = await deps.setupLinks.create(slug, connection ? { connection } : {});
      await record(request, 'setup-link', link.id, 'create', connection ? ['connection'] : []);
      return link.url;
    },

    async tenants(chrome: Chrome): Promise<string> {
      const soon = new Date(Date.now() + 30 * DAY_MS).toISOString();
      const [health, expiring, latency] = await Promise.all([
        deps.audit.healthSince(new Date(Date.now() - DAY_MS)),
        deps.expiring.all(),
        deps.idpLatencyMs(),
      ]);
      const tenants = await Promise.all(
        (await deps.tenants.list()).map(async (tenant) => ({
          tenant,
          connections: await Promise.all(
            (await deps.connections.list(tenant.slug)).map(async (connection) => ({
              connection,
              health: health.find((h) => h.connection === connection.id),
              idpLatencyMs: latency.get(connection.id),
              expiring: expiring.filter(
                (e) => e.kind === 'client_secret' && e.connection === connection.id && e.expiresAt <= soon,
              ),
            })),
          ),
        })),
      );
      return tenantsPage(chrome, tenants);
    },

    async connection(chrome: Chrome, id: string, newLink?: string): Promise<string> {
      const connection = await deps.connections.get(id);
      const { versions } = await deps.versions.list(id);
      const { links } = await deps.setupLinks.list(connection.tenant);
      return connectionPage(
        chrome,
        connection,
        versions,
        links.filter((l) => l.connection === id),
        newLink,
      );
    },

    async apps(chrome: Chrome, rotated?: { app: string; secret: string }): Promise<string> {
      return appsPage(chrome, await deps.apps.list(), rotated);
    },

    async logins(chrome: Chrome, query: unknown): Promise<string> {
      const filter = parseQuery(loginsQuery, query ?? {});
      const tenant = filter.tenant ? await deps.tenantRepo.findBySlug(filter.tenant) : undefined;
      const rows =
        filter.tenant && !tenant
          ? []
          : await deps.audit.search({
              tenantId: tenant?.id,
              connectionId: orUndefined(filter.connection),
              appId: orUndefined(filter.app),
              outcome: filter.outcome === '' ? undefined : filter.outcome,
              error: orUndefined(filter.error),
              requestId: orUndefined(filter.request),
              limit: 200,
            });
      return loginsPage(chrome, filter, rows);
    },

    async changes(chrome: Chrome): Promise<string> {
      return changesPage(chrome, (await deps.changes.list({ limit: '200' })).changes);
    },
  };
}
