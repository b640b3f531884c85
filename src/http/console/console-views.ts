import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppService } from '../../domain/apps/app.service.js';
import type { ConnectionHealth, LoginAuditRepo } from '../../domain/audit/login-audit.repo.js';
import type { ChangeLog } from '../../domain/changes/change-log.service.js';
import type { ConnectionVersionRepo } from '../../domain/connections/connection-version.repo.js';
import type { ConnectionVersionService } from '../../domain/connections/connection-version.service.js';
import type { ConnectionService } from '../../domain/connections/connection.service.js';
import type { DomainService } from '../../domain/domains/domain.service.js';
import type { ExpiringCredential, ExpiringCredentials } from '../../domain/expiring/expiring-credentials.js';
import type { TestLoginService } from '../../domain/login/test-login.service.js';
import { notFound } from '../../domain/not-found.js';
import type { SetupLinkService } from '../../domain/setup-links/setup-link.service.js';
import type { TenantRepo } from '../../domain/tenants/tenant.repo.js';
import type { TenantService } from '../../domain/tenants/tenant.service.js';
import { parseQuery } from '../../domain/validation.js';
import type { TenantView } from '../../domain/tenants/tenant.service.js';
import { isBrokerError } from '../../errors/broker-error.js';
import { html } from '../browser/html.js';
import type { FormState } from './console-forms.js';
import type { Chrome } from './console-layout.js';
import { appsPage, changesPage, loginsPage, NO_TENANT, type Directory } from './console-lists.js';
import { connectionPage } from './console-connection-page.js';
import {
  tenantPage,
  tenantsPage,
  type ConnectionSummary,
  type DraftSummary,
  type TenantOverview,
  type TenantPageOptions,
} from './console-pages.js';

/** What the console reads and writes: the services the admin API uses, nothing of its own. */
export interface ConsoleData {
  tenants: Pick<TenantService, 'list' | 'get' | 'create' | 'update'>;
  /** A tenant's email domains: what the admin API does with them, through the same service. */
  domains: Pick<DomainService, 'list' | 'verify' | 'remove'>;
  tenantRepo: Pick<TenantRepo, 'findBySlug' | 'findById'>;
  connections: Pick<ConnectionService, 'list' | 'get' | 'update'>;
  versions: Pick<ConnectionVersionService, 'list' | 'activate' | 'validate' | 'require' | 'draftByAdmin'>;
  versionRepo: Pick<ConnectionVersionRepo, 'findActive' | 'list'>;
  testLogin: Pick<TestLoginService, 'startHere'>;
  setupLinks: Pick<SetupLinkService, 'create' | 'list' | 'revoke'>;
  apps: Pick<AppService, 'list' | 'get' | 'rotateSecret' | 'create' | 'update'>;
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
const changesQuery = z.object({ tenant: text });
const orUndefined = (value: string | undefined) => (value ? value : undefined);

/** The newest version of a connection that has no active one (being onboarded), if it has any. */
async function draftOf(deps: ConsoleData, connectionId: string): Promise<DraftSummary | undefined> {
  const { versions } = await deps.versions.list(connectionId).catch((error: unknown) => {
    if (isBrokerError(error) && error.code === 'not_found') return { versions: [] };
    throw error;
  });
  const [newest] = versions;
  return newest && !versions.some((v) => v.status === 'active') ? { connectionId, draft: newest } : undefined;
}

/** The console's pages, from the services: gathering what each shows, then rendering it. */
export function consoleViews(deps: ConsoleData) {
  /** A console write in the change log; a failure to record it is logged and the page still answers
   * (as the API's, record-changes.ts): the write happened, and a rotated secret must not be lost. */
  const record = async (request: FastifyRequest, resource: string, id: string, action: string, fields: string[]) => {
    try {
      await deps.changes.record({
        actor: request.consoleSession?.actor ?? 'console',
        resource,
        id,
        action,
        fields,
        address: request.ip,
      });
    } catch (error) {
      request.log.error({ err: error, resource, id }, 'change not recorded');
    }
  };

  /** A tenant's connections with their health, those being onboarded, and its setup links. */
  async function overview(
    tenant: TenantView,
    context: { health: ConnectionHealth[]; expiring: ExpiringCredential[]; latency: Map<string, number> },
  ): Promise<TenantOverview> {
    const soon = new Date(Date.now() + 30 * DAY_MS).toISOString();
    const [active, { links }] = await Promise.all([
      deps.connections.list(tenant.slug),
      deps.setupLinks.list(tenant.slug),
    ]);
    const connections: ConnectionSummary[] = active.map((connection) => ({
      connection,
      health: context.health.find((h) => h.connection === connection.id),
      idpLatencyMs: context.latency.get(connection.id),
      expiring: context.expiring.filter(
        (e) => e.kind === 'client_secret' && e.connection === connection.id && e.expiresAt <= soon,
      ),
    }));
    const pending = [...new Set(links.map((l) => l.connection))].filter((id) => !active.some((c) => c.id === id));
    const drafts = (await Promise.all(pending.map((id) => draftOf(deps, id)))).filter((d) => d !== undefined);
    return { tenant, connections, drafts, links };
  }

  async function healthContext() {
    const [health, expiring, latency] = await Promise.all([
      deps.audit.healthSince(new Date(Date.now() - DAY_MS)),
      deps.expiring.all(),
      deps.idpLatencyMs(),
    ]);
    return { health, expiring, latency };
  }

  /** Names of everything the lists mention by id: tenants, connections (live and onboarding), apps, setup links. */
  async function directory(): Promise<Directory> {
    const dir: Directory = { tenants: new Map(), connections: new Map(), apps: new Map(), links: new Map() };
    const [tenants, apps] = await Promise.all([deps.tenants.list(), deps.apps.list()]);
    for (const app of apps) dir.apps.set(app.id, app);
    await Promise.all(
      tenants.map(async (tenant) => {
        dir.tenants.set(tenant.slug, { name: tenant.name });
        const [connections, { links }] = await Promise.all([
          deps.connections.list(tenant.slug),
          deps.setupLinks.list(tenant.slug),
        ]);
        for (const c of connections) dir.connections.set(c.id, { label: c.issuer, tenant: tenant.slug });
        for (const l of links) {
          dir.links.set(l.id, { tenant: tenant.slug, note: l.note });
          if (!dir.connections.has(l.connection))
            dir.connections.set(l.connection, { label: 'new connection (not active yet)', tenant: tenant.slug });
        }
      }),
    );
    // Sorted by name, as the filters list them.
    dir.tenants = new Map([...dir.tenants].sort((a, b) => a[1].name.localeCompare(b[1].name)));
    return dir;
  }

  return {
    record,
    backLink: () => html`<p><a href="/console">Back to the console</a></p>`,

    async activeVersion(connectionId: string): Promise<number> {
      const active = await deps.versionRepo.findActive(connectionId);
      if (!active) notFound('connection', connectionId);
      return active.version;
    },

    async createLink(
      request: FastifyRequest,
      slug: string,
      connection: string | undefined,
      options: { note?: string; expiresInHours?: number },
    ): Promise<string> {
      const link = await deps.setupLinks.create(slug, { ...(connection && { connection }), ...options });
      const fields = ['connection', 'note', 'expiresInHours'].filter((f) =>
        f === 'connection' ? connection : f in options,
      );
      await record(request, 'setup-link', link.id, 'create', fields);
      return link.url;
    },

    async tenants(chrome: Chrome, form?: FormState): Promise<string> {
      const context = await healthContext();
      const tenants = await Promise.all((await deps.tenants.list()).map((tenant) => overview(tenant, context)));
      return tenantsPage(chrome, tenants, form);
    },

    async tenant(chrome: Chrome, slug: string, options: TenantPageOptions = {}): Promise<string> {
      const [tenant, { domains }] = await Promise.all([deps.tenants.get(slug), deps.domains.list(slug)]);
      return tenantPage(chrome, await overview(tenant, await healthContext()), { ...options, domains });
    },

    async connection(chrome: Chrome, id: string, newLink?: string): Promise<string> {
      // A connection being onboarded has versions (a draft) but no live settings yet.
      const { versions } = await deps.versions.list(id);
      const [owner] = await deps.versionRepo.list(id);
      const connection = await deps.connections.get(id).catch((error: unknown) => {
        if (isBrokerError(error) && error.code === 'not_found') return undefined;
        throw error;
      });
      const tenantRow = owner && (await deps.tenantRepo.findById(owner.tenantId));
      const tenant = await deps.tenants.get(connection?.tenant ?? tenantRow?.slug ?? notFound('connection', id));
      const { links } = await deps.setupLinks.list(tenant.slug);
      return connectionPage(chrome, {
        connectionId: id,
        tenant,
        connection,
        versions,
        links: links.filter((l) => l.connection === id),
        newLink,
      });
    },

    /** The tenant slug a connection (live or being onboarded) belongs to. */
    async connectionTenant(id: string): Promise<string> {
      const [owner] = await deps.versionRepo.list(id);
      const tenant = owner && (await deps.tenantRepo.findById(owner.tenantId));
      return tenant?.slug ?? notFound('connection', id);
    },

    async apps(
      chrome: Chrome,
      options: { rotated?: { app: string; secret: string }; form?: FormState; editing?: string } = {},
    ): Promise<string> {
      return appsPage(chrome, await directory(), options);
    },

    async logins(chrome: Chrome, query: unknown): Promise<string> {
      const filter = parseQuery(loginsQuery, query ?? {});
      const noTenant = filter.tenant === NO_TENANT;
      const tenant = filter.tenant && !noTenant ? await deps.tenantRepo.findBySlug(filter.tenant) : undefined;
      const [dir, rows] = await Promise.all([
        directory(),
        filter.tenant && !noTenant && !tenant
          ? []
          : deps.audit.search({
              tenantId: noTenant ? null : tenant?.id,
              connectionId: orUndefined(filter.connection),
              appId: orUndefined(filter.app),
              outcome: filter.outcome === '' ? undefined : filter.outcome,
              error: orUndefined(filter.error),
              requestId: orUndefined(filter.request),
              limit: 200,
            }),
      ]);
      return loginsPage(chrome, dir, filter, rows);
    },

    async changes(chrome: Chrome, query: unknown): Promise<string> {
      const tenant = orUndefined(parseQuery(changesQuery, query ?? {}).tenant);
      // Filtered in SQL: the page is that tenant's latest 200, however busy the others.
      const [dir, { changes }] = await Promise.all([directory(), deps.changes.list({ limit: '200' }, tenant)]);
      return changesPage(chrome, dir, changes, tenant);
    },
  };
}
