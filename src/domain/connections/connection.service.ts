import { SEALED } from '../../crypto/purposes.js';
import { randomUUID } from 'node:crypto';
import type { BrokerKeys } from '../../config/broker-keys.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { IdpConnection } from '../../oidc/idp.js';
import type { IdpNetworkPolicy } from '../../oidc/network-policy.js';
import { validateIdpReports, type ValidationReport, type ValidationReports } from '../../oidc/validate-idp.js';
import type { TenantRepo } from '../tenants/tenant.repo.js';
import { notFound } from '../not-found.js';
import { invalidField, parseInput } from '../validation.js';
import type { Connection, ConnectionData, ConnectionRepo } from './connection.repo.js';
import { connectionRuleProblems, createConnectionSchema, patchConnectionSchema } from './connection.schema.js';
import { toConnectionView, type ConnectionView } from './connection.view.js';

/** An ISO date from a request as a Date; null and undefined as they are. */
export function toDate<T extends null | undefined>(value: string | T): Date | T {
  return typeof value === 'string' ? new Date(value) : value;
}

/** Client secrets are sealed for one connection: a ciphertext copied to another row does not open. */

export class ConnectionService {
  constructor(
    private readonly deps: {
      connections: ConnectionRepo;
      tenants: TenantRepo;
      secretBox: SecretBox;
      keys: BrokerKeys;
      /** PUBLIC_URL/api/sso/callback: each connection's redirect URI is below it. */
      callbackUrl: string;
      idpTimeoutSeconds: number;
      idpNetworkPolicy: IdpNetworkPolicy;
      /** The app's fetch for IdP requests (boundedFetch under the policy); validate makes its own without it. */
      idpFetch?: typeof fetch;
      /** Tells every broker process the configuration changed (live config). */
      announce?: () => void;
    },
  ) {}

  #announce(): void {
    this.deps.announce?.();
  }

  /** The discovery report for a stored connection (contract: POST /admin/connections/:id/validate). */
  async validate(id: string): Promise<ValidationReport> {
    return (await this.validateSettings(await this.require(id))).operators;
  }

  /** The discovery report for IdP settings (a connection's, or a version's). */
  async validateSettings(
    connection: Pick<Connection, 'issuer' | 'discoveryUrl' | 'tokenEndpointAuthMethod'>,
  ): Promise<ValidationReports> {
    return validateIdpReports({
      issuer: connection.issuer,
      discoveryUrl: connection.discoveryUrl,
      tokenEndpointAuthMethod: connection.tokenEndpointAuthMethod,
      timeoutSeconds: this.deps.idpTimeoutSeconds,
      networkPolicy: this.deps.idpNetworkPolicy,
      ...(this.deps.idpFetch && { fetch: this.deps.idpFetch }),
    });
  }

  async create(tenantSlug: string, body: unknown): Promise<ConnectionView> {
    const tenant = await this.#requireTenant(tenantSlug);
    const input = parseInput(createConnectionSchema, body);
    this.assertRules({
      ...input,
      discoveryUrl: input.discoveryUrl ?? null,
      hasClientSecret: input.clientSecret !== undefined,
    });
    this.assertSigningKey(input.tokenEndpointAuthMethod, input.signingKeyId ?? null);
    const id = randomUUID();
    const { clientSecret, clientSecretExpiresAt, ...rest } = input;
    const connection = await this.deps.connections.create(
      tenant.id,
      id,
      {
        ...rest,
        discoveryUrl: rest.discoveryUrl ?? null,
        signingKeyId: rest.signingKeyId ?? null,
        clientSecretEnc: clientSecret === undefined ? null : this.sealSecret(id, clientSecret),
      },
      { createdBy: 'admin', clientSecretExpiresAt: toDate(clientSecretExpiresAt) },
    );
    this.#announce();
    return this.#view(connection, tenant.slug);
  }

  async list(tenantSlug: string): Promise<ConnectionView[]> {
    const tenant = await this.#requireTenant(tenantSlug);
    return (await this.deps.connections.listByTenant(tenant.id)).map((c) => this.#view(c, tenant.slug));
  }

  async get(id: string): Promise<ConnectionView> {
    const connection = await this.require(id);
    return this.#view(connection, await this.#tenantSlug(connection.tenantId));
  }

  async require(id: string): Promise<Connection> {
    const connection = await this.deps.connections.findById(id);
    if (!connection) notFound('connection', id);
    return connection;
  }

  async update(id: string, body: unknown): Promise<ConnectionView> {
    const patch = parseInput(patchConnectionSchema, body);
    const current = await this.require(id);
    const { clientSecret, clientSecretExpiresAt, ...rest } = patch;
    const method = rest.tokenEndpointAuthMethod ?? current.tokenEndpointAuthMethod;
    // Switching to private_key_jwt drops the stored secret: it must not linger unused.
    const clientSecretEnc =
      clientSecret !== undefined
        ? this.sealSecret(id, clientSecret)
        : method === 'private_key_jwt'
          ? null
          : current.clientSecretEnc;
    const next = { ...current, ...rest, clientSecretEnc };
    this.assertRules({
      issuer: next.issuer,
      discoveryUrl: next.discoveryUrl,
      tokenEndpointAuthMethod: next.tokenEndpointAuthMethod,
      hasClientSecret:
        clientSecret !== undefined || (method === 'client_secret_post' && current.clientSecretEnc !== null),
      allowedTenantIds: next.allowedTenantIds,
    });
    this.assertSigningKey(next.tokenEndpointAuthMethod, next.signingKeyId);
    const data: Partial<ConnectionData> = { ...rest, clientSecretEnc };
    const meta = { createdBy: 'admin' as const, clientSecretExpiresAt: toDate(clientSecretExpiresAt) };
    const updated =
      (await this.deps.connections.update(id, current.tenantId, data, meta)) ?? notFound('connection', id);
    this.#announce();
    return this.#view(updated, await this.#tenantSlug(updated.tenantId));
  }

  async delete(id: string): Promise<void> {
    if (!(await this.deps.connections.delete(id))) notFound('connection', id);
    this.#announce();
  }

  /** A client secret sealed for one connection (and every version of it). */
  sealSecret(connectionId: string, secret: string): string {
    return this.deps.secretBox.seal(secret, SEALED.connectionClientSecret(connectionId));
  }

  /** The connection as the OIDC layer needs it; the client secret is decrypted on demand. */
  toIdpConnection(connection: Connection): IdpConnection {
    const clientSecret = () => {
      if (connection.clientSecretEnc === null) return undefined;
      const secret = this.deps.secretBox.open(connection.clientSecretEnc, SEALED.connectionClientSecret(connection.id));
      if (secret === undefined) {
        throw new BrokerError('idp_error', {
          logMessage: `client secret of connection ${connection.id} does not decrypt with SECRET_KEY`,
        });
      }
      return secret;
    };
    return {
      id: connection.id,
      issuer: connection.issuer,
      discoveryUrl: connection.discoveryUrl,
      clientId: connection.clientId,
      clientSecret,
      tokenEndpointAuthMethod: connection.tokenEndpointAuthMethod,
      signingKeyId: connection.signingKeyId,
      assertionAudience: connection.assertionAudience,
      allowedTenantIds: connection.allowedTenantIds,
      version: connection.updatedAt.getTime(),
      // A version under test is cached apart from the active settings it may replace.
      ...(connection.testedVersion !== undefined && { cacheKey: `${connection.id}#${connection.testedVersion}` }),
    };
  }

  #view(connection: Connection, tenantSlug: string): ConnectionView {
    return toConnectionView(connection, tenantSlug, this.deps.callbackUrl);
  }

  assertRules(c: Parameters<typeof connectionRuleProblems>[0]): void {
    const problems = connectionRuleProblems(c);
    if (problems.length > 0) {
      throw new BrokerError('invalid_request', { description: 'The request body is invalid.', details: problems });
    }
  }

  assertSigningKey(method: string, signingKeyId: string | null): void {
    if (method !== 'private_key_jwt') return;
    if (signingKeyId !== null && !this.deps.keys.keys.has(signingKeyId)) {
      throw invalidField('signingKeyId', `no broker key "${signingKeyId}" in KEYS_DIR`);
    }
    if (signingKeyId === null && this.deps.keys.activeKid === undefined) {
      throw invalidField('tokenEndpointAuthMethod', 'private_key_jwt needs a broker key: run `npm run keys:generate`');
    }
  }

  async #requireTenant(slug: string) {
    const tenant = await this.deps.tenants.findBySlug(slug);
    if (!tenant) notFound('tenant', slug);
    return tenant;
  }

  async #tenantSlug(tenantId: string): Promise<string> {
    return (await this.deps.tenants.findById(tenantId))?.slug ?? '';
  }
}
