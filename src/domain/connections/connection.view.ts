import { defaultDiscoveryUrl } from '../../oidc/idp-url.js';
import type { Connection } from './connection.repo.js';
import { backchannelLogoutUriFor, redirectUriFor } from './redirect-uri.js';

/** A connection as the admin API shows it: its own redirect URI, never its secret. */
export interface ConnectionView {
  id: string;
  tenant: string;
  /** The connection's own redirect URI, to register at its IdP. */
  redirectUri: string;
  /** Where the connection's IdP sends logout tokens (Back-Channel Logout 1.0), to register there. */
  backchannelLogoutUri: string;
  issuer: string;
  discoveryUrl: string;
  clientId: string;
  /** Whether a client secret is stored; the secret itself is never returned. */
  hasClientSecret: boolean;
  tokenEndpointAuthMethod: Connection['tokenEndpointAuthMethod'];
  allowedTenantIds: string[];
  signingKeyId: string | null;
  assertionAudience: Connection['assertionAudience'];
  scopes: string[];
  subjectClaim: Connection['subjectClaim'];
  assumeEmailVerified: boolean;
  claimMapping: Connection['claimMapping'];
  fetchUserinfo: boolean;
  acrValues: string[];
  isDefault: boolean;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export function toConnectionView(connection: Connection, tenantSlug: string, callbackUrl: string): ConnectionView {
  return {
    id: connection.id,
    tenant: tenantSlug,
    redirectUri: redirectUriFor(callbackUrl, connection.id),
    backchannelLogoutUri: backchannelLogoutUriFor(callbackUrl, connection.id),
    issuer: connection.issuer,
    discoveryUrl: connection.discoveryUrl ?? defaultDiscoveryUrl(connection.issuer),
    clientId: connection.clientId,
    hasClientSecret: connection.clientSecretEnc !== null,
    tokenEndpointAuthMethod: connection.tokenEndpointAuthMethod,
    allowedTenantIds: connection.allowedTenantIds,
    signingKeyId: connection.signingKeyId,
    assertionAudience: connection.assertionAudience,
    scopes: connection.scopes,
    subjectClaim: connection.subjectClaim,
    assumeEmailVerified: connection.assumeEmailVerified,
    claimMapping: connection.claimMapping,
    fetchUserinfo: connection.fetchUserinfo,
    acrValues: connection.acrValues,
    isDefault: connection.isDefault,
    enabled: connection.enabled,
    createdAt: connection.createdAt.toISOString(),
    updatedAt: connection.updatedAt.toISOString(),
  };
}
