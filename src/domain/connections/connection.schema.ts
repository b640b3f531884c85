import { z } from 'zod';
import { discoveryOriginProblem, idpUrlProblem } from '../../oidc/idp-url.js';
import { acrValue, MAX_ACR_VALUES } from '../login/start/step-up.js';

const idpUrl = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    // `{tenantid}` is a placeholder (Entra ID multi-tenant), not part of the URL's syntax.
    const problem = idpUrlProblem(value.replaceAll('{tenantid}', 'tenant'));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const claimName = z.string().regex(/^[A-Za-z0-9_:/.-]{1,200}$/, 'a claim name or dot path such as realm_access.roles');
const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/, 'a scope token (no spaces or quotes)');

/** Every field of a connection as the admin API takes it; refinements run on the whole. */
const fields = {
  issuer: idpUrl,
  discoveryUrl: idpUrl.nullable(),
  clientId: z.string().min(1).max(500),
  clientSecret: z.string().min(1).max(2000),
  tokenEndpointAuthMethod: z.enum(['client_secret_post', 'private_key_jwt']),
  allowedTenantIds: z.array(z.string().regex(/^([0-9a-f-]{36}|\*)$/i, 'an Entra tenant id (GUID) or "*"')).max(1000),
  signingKeyId: z.string().min(1).max(200).nullable(),
  assertionAudience: z.enum(['token_endpoint', 'issuer']),
  scopes: z.array(scope).max(50),
  subjectClaim: z.enum(['sub', 'oid']),
  assumeEmailVerified: z.boolean(),
  claimMapping: z.strictObject({
    name: claimName.optional(),
    givenName: claimName.optional(),
    familyName: claimName.optional(),
    groups: claimName.optional(),
  }),
  fetchUserinfo: z.boolean(),
  acrValues: z.array(acrValue).max(MAX_ACR_VALUES),
  isDefault: z.boolean(),
  enabled: z.boolean(),
  /** When the IdP said the client secret expires (contract v3, expiring credentials). */
  clientSecretExpiresAt: z.iso.datetime({ offset: true }).nullable(),
};

export const createConnectionSchema = z.strictObject({
  issuer: fields.issuer,
  discoveryUrl: fields.discoveryUrl.optional(),
  clientId: fields.clientId,
  clientSecret: fields.clientSecret.optional(),
  tokenEndpointAuthMethod: fields.tokenEndpointAuthMethod,
  allowedTenantIds: fields.allowedTenantIds.default([]),
  signingKeyId: fields.signingKeyId.optional(),
  assertionAudience: fields.assertionAudience.default('token_endpoint'),
  scopes: fields.scopes.default([]),
  subjectClaim: fields.subjectClaim.default('sub'),
  assumeEmailVerified: fields.assumeEmailVerified.default(false),
  claimMapping: fields.claimMapping.default({}),
  fetchUserinfo: fields.fetchUserinfo.default(false),
  acrValues: fields.acrValues.default([]),
  isDefault: fields.isDefault.optional(),
  enabled: fields.enabled.default(true),
  clientSecretExpiresAt: fields.clientSecretExpiresAt.optional(),
});

export const patchConnectionSchema = z.strictObject({
  issuer: fields.issuer.optional(),
  discoveryUrl: fields.discoveryUrl.optional(),
  clientId: fields.clientId.optional(),
  clientSecret: fields.clientSecret.optional(),
  tokenEndpointAuthMethod: fields.tokenEndpointAuthMethod.optional(),
  allowedTenantIds: fields.allowedTenantIds.optional(),
  signingKeyId: fields.signingKeyId.optional(),
  assertionAudience: fields.assertionAudience.optional(),
  scopes: fields.scopes.optional(),
  subjectClaim: fields.subjectClaim.optional(),
  assumeEmailVerified: fields.assumeEmailVerified.optional(),
  claimMapping: fields.claimMapping.optional(),
  fetchUserinfo: fields.fetchUserinfo.optional(),
  acrValues: fields.acrValues.optional(),
  isDefault: fields.isDefault.optional(),
  enabled: fields.enabled.optional(),
  clientSecretExpiresAt: fields.clientSecretExpiresAt.optional(),
});

/**
 * A draft version (POST /admin/connections/:id/versions, a setup link's form): the IdP
 * settings to change, as PATCH takes them. Whether a connection is the tenant's default and
 * whether it is enabled are the operator's switches on the connection, not IdP settings: they
 * are not versioned, so a rollback never re-enables a connection switched off.
 */
export const draftVersionSchema = patchConnectionSchema.omit({ isDefault: true, enabled: true });

export type CreateConnectionInput = z.output<typeof createConnectionSchema>;
export type PatchConnectionInput = z.output<typeof patchConnectionSchema>;

/** The rules that tie fields together, checked on the connection as it will be stored. */
export function connectionRuleProblems(c: {
  issuer: string;
  discoveryUrl: string | null;
  tokenEndpointAuthMethod: string;
  hasClientSecret: boolean;
  allowedTenantIds: string[];
}): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (c.tokenEndpointAuthMethod === 'client_secret_post' && !c.hasClientSecret) {
    problems.push({ path: 'clientSecret', message: 'is required for client_secret_post' });
  }
  if (c.tokenEndpointAuthMethod === 'private_key_jwt' && c.hasClientSecret) {
    problems.push({
      path: 'clientSecret',
      message: 'is refused for private_key_jwt (the broker signs with its own key)',
    });
  }
  // Contract v2, issuer squatting: apps key users on (issuer, subject), so a connection that
  // claims `https://accounts.google.com` while its metadata (and so its keys) comes from the
  // tenant's own host would mint any Google identity. Metadata comes from the issuer's origin.
  const originProblem = c.discoveryUrl === null ? undefined : discoveryOriginProblem(c.issuer, c.discoveryUrl);
  if (originProblem) problems.push({ path: 'discoveryUrl', message: originProblem });
  const templated = c.issuer.includes('{tenantid}');
  if (templated && c.allowedTenantIds.length === 0) {
    problems.push({
      path: 'allowedTenantIds',
      message: 'is required when issuer contains {tenantid} (["*"] accepts any tenant)',
    });
  }
  if (!templated && c.allowedTenantIds.length > 0) {
    problems.push({ path: 'allowedTenantIds', message: 'applies only to an issuer containing {tenantid}' });
  }
  return problems;
}
