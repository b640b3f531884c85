import { BrokerError } from '../errors/broker-error.js';

export interface ClaimMapping {
  name?: string | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
  groups?: string | undefined;
}

export interface IdentityRules {
  subjectClaim: 'sub' | 'oid';
  assumeEmailVerified: boolean;
  claimMapping: ClaimMapping;
}

/** What a relying app receives about the learner (the redeem answer, minus tenant/session). */
export interface MappedIdentity {
  subject: string;
  login: string;
  email?: string;
  emailVerified: boolean | null;
  name?: string;
  givenName?: string;
  familyName?: string;
  groups: string[];
}

/** Reads a claim by name or dot path (`realm_access.roles`). */
export function readClaim(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function asBoolean(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

/**
 * The broker's identity rules: the user id from `sub` (or Entra ID's `oid` when the connection
 * says so), the login from `email`, else `preferred_username`. Without both: missing_claims.
 */
export function mapIdentity(claims: Record<string, unknown>, rules: IdentityRules): MappedIdentity {
  const subject = nonEmptyString(claims[rules.subjectClaim]);
  const email = nonEmptyString(claims.email);
  const login = email ?? nonEmptyString(claims.preferred_username);
  if (subject === undefined || login === undefined) {
    const missing = [
      subject === undefined && rules.subjectClaim,
      login === undefined && 'email or preferred_username',
    ].filter(Boolean);
    throw new BrokerError('missing_claims', {
      description: `The identity provider did not send ${missing.join(' and ')}.`,
    });
  }
  const asserted = asBoolean(claims.email_verified);
  const emailVerified = email === undefined ? null : (asserted ?? (rules.assumeEmailVerified ? true : null));
  const mapping = rules.claimMapping;
  const groupsValue = readClaim(claims, mapping.groups ?? 'groups');
  const groups = Array.isArray(groupsValue) ? groupsValue.filter((g): g is string => typeof g === 'string') : [];
  const identity: MappedIdentity = { subject, login, emailVerified, groups };
  if (email !== undefined) identity.email = email;
  const name = nonEmptyString(readClaim(claims, mapping.name ?? 'name'));
  const givenName = nonEmptyString(readClaim(claims, mapping.givenName ?? 'given_name'));
  const familyName = nonEmptyString(readClaim(claims, mapping.familyName ?? 'family_name'));
  if (name !== undefined) identity.name = name;
  if (givenName !== undefined) identity.givenName = givenName;
  if (familyName !== undefined) identity.familyName = familyName;
  return identity;
}
