import { z } from 'zod';
import type { AppView } from '../../domain/apps/app.service.js';
import type { ConnectionView } from '../../domain/connections/connection.view.js';
import type { VersionView } from '../../domain/connections/connection-version.service.js';
import type { ChangeRow } from '../../domain/changes/change-log.repo.js';
import type { ExpiringCredential } from '../../domain/expiring/expiring-credentials.js';
import type { LoginAttemptRow } from '../../domain/audit/login-audit.repo.js';
import type { SetupLinkView } from '../../domain/setup-links/setup-link.service.js';
import type { TenantView } from '../../domain/tenants/tenant.service.js';
import type { RedeemAnswer } from '../../domain/tickets/ticket.service.js';
import type { ValidationReport } from '../../oidc/validate-idp.js';

/**
 * The answers of the admin and relying-app APIs, as zod schemas for the OpenAPI document.
 * Each is tied to the type the code answers with (the `Fits` checks at the end).
 */

const time = z.iso.datetime();
const claimMapping = z.object({
  name: z.string().optional(),
  givenName: z.string().optional(),
  familyName: z.string().optional(),
  groups: z.string().optional(),
});

export const errorAnswer = z
  .object({
    error: z.string().describe('The contract error code'),
    error_description: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    request_id: z.string(),
  })
  .meta({ id: 'Error' });

export const tenantAnswer = z
  .object({
    slug: z.string(),
    name: z.string(),
    domains: z.array(z.string()),
    restrictToDomains: z.boolean(),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: 'Tenant' });

const idpSettings = {
  issuer: z.string(),
  discoveryUrl: z.string(),
  clientId: z.string(),
  hasClientSecret: z.boolean().describe('Whether a client secret is stored; secrets are never returned'),
  tokenEndpointAuthMethod: z.enum(['client_secret_post', 'private_key_jwt']),
  allowedTenantIds: z.array(z.string()),
  signingKeyId: z.string().nullable(),
  assertionAudience: z.enum(['token_endpoint', 'issuer']),
  scopes: z.array(z.string()),
  subjectClaim: z.enum(['sub', 'oid']),
  assumeEmailVerified: z.boolean(),
  claimMapping,
  fetchUserinfo: z.boolean(),
  acrValues: z.array(z.string()).describe('Sent on every login after the app’s acr_values'),
};

export const connectionAnswer = z
  .object({
    id: z.string(),
    tenant: z.string(),
    redirectUri: z.string().describe('The connection’s own redirect URI, to register at its IdP'),
    backchannelLogoutUri: z
      .string()
      .describe('Where the connection’s IdP sends logout tokens (Back-Channel Logout 1.0), to register there'),
    ...idpSettings,
    isDefault: z.boolean(),
    enabled: z.boolean(),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: 'Connection' });

export const versionAnswer = z
  .object({
    version: z.number().int(),
    status: z.enum(['draft', 'active', 'retired']),
    createdAt: time,
    createdBy: z.enum(['admin', 'setup-link']),
    activatedAt: time.optional(),
    lastTest: z.object({ at: time, ok: z.boolean() }).optional(),
    ...idpSettings,
    clientSecretExpiresAt: time.optional(),
  })
  .meta({ id: 'ConnectionVersion' });

export const validationAnswer = z
  .object({
    ok: z.boolean(),
    checks: z.array(z.object({ id: z.string(), ok: z.boolean(), message: z.string() })),
  })
  .meta({ id: 'ValidationReport' });

export const appAnswer = z
  .object({
    id: z.string(),
    name: z.string(),
    returnUrls: z.array(z.string()),
    tenants: z.array(z.string()).nullable().describe('The tenants allowed to use the app; null: every tenant'),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: 'App' });

export const testLoginAnswer = z.object({ url: z.string(), expiresAt: time });

export const loginsAnswer = z.object({
  logins: z.array(
    z.object({
      at: time,
      connection: z.string().nullable(),
      app: z.string().nullable(),
      outcome: z.enum(['success', 'failure']),
      error: z.string().nullable(),
      durationMs: z.number(),
      requestId: z.string().nullable().describe('The request id on the learner’s error page'),
    }),
  ),
});

export const setupLinkCreatedAnswer = z.object({
  id: z.string(),
  url: z.string(),
  expiresAt: time,
  connection: z.string(),
});

export const setupLinkAnswer = z
  .object({
    id: z.string(),
    connection: z.string(),
    createdAt: time,
    expiresAt: time,
    usedAt: time.optional(),
    revokedAt: time.optional(),
    note: z.string().optional(),
  })
  .meta({ id: 'SetupLink' });

export const expiringAnswer = z.object({
  expiring: z.array(
    z.union([
      z.object({
        kind: z.literal('client_secret'),
        tenant: z.string(),
        connection: z.string(),
        version: z.number().int(),
        status: z.enum(['active', 'draft']),
        expiresAt: time,
      }),
      z.object({ kind: z.literal('certificate'), kid: z.string(), expiresAt: time }),
    ]),
  ),
});

export const changesAnswer = z.object({
  changes: z.array(
    z.object({
      at: time,
      actor: z.string(),
      resource: z.string(),
      id: z.string(),
      action: z.string(),
      fields: z.array(z.string()).describe('The names of the fields written; never their values'),
      address: z.string().nullable(),
    }),
  ),
});

export const redeemAnswer = z
  .object({
    tenant: z.string(),
    connection: z.string(),
    issuer: z.string(),
    subject: z.string(),
    login: z.string(),
    email: z.string().optional(),
    emailVerified: z.boolean().nullable(),
    name: z.string().optional(),
    givenName: z.string().optional(),
    familyName: z.string().optional(),
    groups: z.array(z.string()),
    claims: z.record(z.string(), z.unknown()),
    acr: z.string().nullable().describe('The ID token’s acr (authentication context class), or null'),
    amr: z.array(z.string()).nullable().describe('The ID token’s amr (authentication methods), or null'),
    authenticatedAt: time.describe('The ID token’s auth_time when present, else when the broker received the ID token'),
    session: z.string().describe('The session id for GET /api/sso/logout'),
  })
  .meta({ id: 'Identity' });

// The code's answer types must fit their schemas, with the same fields: the build fails when
// they drift apart (a field added, dropped or retyped on one side only).
type SameKeys<A, D> = [Exclude<keyof A, keyof D>, Exclude<keyof D, keyof A>] extends [never, never] ? true : false;
type Fits<Actual extends Documented, Documented> = SameKeys<Actual, Documented>;
type Assert<T extends true[]> = T;
export type Checked = Assert<
  [
    Fits<TenantView, z.output<typeof tenantAnswer>>,
    Fits<ConnectionView, z.output<typeof connectionAnswer>>,
    Fits<VersionView, z.output<typeof versionAnswer>>,
    Fits<ValidationReport, z.output<typeof validationAnswer>>,
    Fits<AppView, z.output<typeof appAnswer>>,
    Fits<LoginAttemptRow, z.output<typeof loginsAnswer>['logins'][number]>,
    Fits<SetupLinkView, z.output<typeof setupLinkAnswer>>,
    Fits<{ expiring: ExpiringCredential[] }, z.output<typeof expiringAnswer>>,
    Fits<ChangeRow, z.output<typeof changesAnswer>['changes'][number]>,
    Fits<RedeemAnswer, z.output<typeof redeemAnswer>>,
  ]
>;
