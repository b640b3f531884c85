import { randomBytes } from 'node:crypto';
import type { TestBroker } from './broker.js';
import { TestBrowser } from './browser.js';
import type { TestIdp } from './idp.js';
import { waitFor } from './wait.js';

export interface Scenario {
  tenant: string;
  connectionId: string;
  app: { id: string; secret: string };
  returnTo: string;
  loginUrl(params?: Record<string, string>): string;
}

/** Registers, through the admin API, a tenant with a connection to `idp` and an app. */
export async function registerTenant(
  broker: TestBroker,
  idp: TestIdp,
  options: {
    method: 'client_secret_post' | 'private_key_jwt';
    connection?: Record<string, unknown>;
    tenant?: Record<string, unknown>;
    /** false: the tenant's domains stay unverified claims (the default verifies them, forced). */
    verifyDomains?: boolean;
  },
): Promise<Scenario> {
  const slug = `t-${randomBytes(4).toString('hex')}`;
  const tenant = await broker.admin('POST', '/admin/tenants', { slug, name: `Tenant ${slug}`, ...options.tenant });
  if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  const credentials =
    options.method === 'client_secret_post'
      ? { clientId: idp.secretClient.clientId, clientSecret: idp.secretClient.clientSecret }
      : { clientId: idp.jwtClient.clientId };
  const connection = await broker.admin('POST', `/admin/tenants/${slug}/connections`, {
    issuer: idp.issuer,
    tokenEndpointAuthMethod: options.method,
    ...credentials,
    ...options.connection,
  });
  if (connection.status !== 201) throw new Error(`connection: ${connection.status} ${JSON.stringify(connection.body)}`);
  // Its domains route and restrict as an operator's entries did before v4: verified (forced).
  if (options.verifyDomains !== false)
    await verifyDomains(broker, slug, (options.tenant?.domains as string[] | undefined) ?? []);
  const returnTo = `https://app-${slug}.example.test/sso/done?from=broker`;
  const app = await broker.admin('POST', '/admin/apps', {
    name: `App for ${slug}`,
    returnUrls: [returnTo],
    tenants: [slug],
  });
  if (app.status !== 201) throw new Error(`app: ${app.status} ${JSON.stringify(app.body)}`);
  return {
    tenant: slug,
    connectionId: connection.body.id,
    app: { id: app.body.id, secret: app.body.secret },
    returnTo,
    loginUrl(params = {}) {
      const query = new URLSearchParams({ app: app.body.id, return_to: returnTo, tenant: slug, ...params });
      return `${broker.url}/api/sso/login?${query}`;
    },
  };
}

/**
 * Verifies a tenant's domains as an admin may (`force`), so that they route learners and count
 * for restrictToDomains (contract v4: claimed domains do neither).
 */
export async function verifyDomains(broker: TestBroker, slug: string, domains: readonly string[]): Promise<void> {
  for (const domain of domains) {
    const answer = await broker.admin('POST', `/admin/tenants/${slug}/domains/${domain}/verify`, { force: true });
    if (answer.status !== 200) throw new Error(`verify ${domain}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

export async function redeem(broker: TestBroker, app: { id: string; secret: string }, ticket: unknown) {
  const response = await fetch(`${broker.url}/api/sso/tickets/redeem`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ ticket }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

export const ADA = {
  sub: 'user-ada-0001',
  claims: {
    email: 'ada@acme.example',
    email_verified: true,
    name: 'Ada Lovelace',
    given_name: 'Ada',
    family_name: 'Lovelace',
    groups: ['engineers', 'admins'],
  },
};

export const GRACE = {
  sub: 'user-grace-0002',
  claims: { preferred_username: 'grace@acme.example', name: 'Grace Hopper' },
};

/**
 * A tenant, a client_secret_post connection to `issuer` (plus `connection` options) and an app
 * allowed for it; `login()` runs a whole login with a fresh browser against an IdP that needs
 * no sign-in form (the rogue IdP) and says how it ended.
 */
export async function registerAutoLoginTenant(
  broker: TestBroker,
  options: { slug: string; issuer: string; clientSecret: string; connection?: Record<string, unknown> },
) {
  const tenant = await broker.admin('POST', '/admin/tenants', { slug: options.slug, name: options.slug });
  if (tenant.status !== 201) throw new Error(`tenant: ${JSON.stringify(tenant.body)}`);
  const connection = await broker.admin('POST', `/admin/tenants/${options.slug}/connections`, {
    issuer: options.issuer,
    clientId: 'rogue-client',
    clientSecret: options.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_post',
    ...options.connection,
  });
  if (connection.status !== 201) throw new Error(`connection: ${JSON.stringify(connection.body)}`);
  const returnTo = `https://app.example.test/${options.slug}`;
  const app = (
    await broker.admin('POST', '/admin/apps', { name: options.slug, returnUrls: [returnTo], tenants: [options.slug] })
  ).body as { id: string; secret: string };
  return {
    app,
    connectionId: connection.body.id as string,
    async login(): Promise<{ error: string | null; ticket: string | null; browser: TestBrowser }> {
      const browser = new TestBrowser();
      const url = `${broker.url}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: returnTo, tenant: options.slug })}`;
      const result = await browser.follow(url, (u) => u.startsWith(returnTo));
      if (!result.url)
        throw new Error(`${options.slug}: ended at ${result.response.status} ${await result.response.text()}`);
      const back = new URL(result.url);
      return { error: back.searchParams.get('error'), ticket: back.searchParams.get('ticket'), browser };
    },
  };
}

/**
 * The tenant's audited login attempts (GET /admin/tenants/:slug/logins), once at least
 * `atLeast` are there: attempts are written in batches, visible within a second (contract).
 */
export async function auditedLogins(broker: TestBroker, tenant: string, atLeast: number, query = '') {
  let answer = await broker.admin('GET', `/admin/tenants/${tenant}/logins${query}`);
  await waitFor(async () => {
    answer = await broker.admin('GET', `/admin/tenants/${tenant}/logins${query}`);
    return answer.status !== 200 || answer.body.logins.length >= atLeast;
  }, 2_000);
  return answer;
}
