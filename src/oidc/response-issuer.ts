import { BrokerError } from '../errors/broker-error.js';
import { isConnectionIssuer } from './entra-tenant-issuer.js';
import type { Idp } from './idp.js';

/**
 * RFC 9207 §2.4 (mix-up defence, RFC 9700 §4.4.2): when the authorization response carries
 * `iss`, it must be this connection's issuer; an IdP that advertises
 * `authorization_response_iss_parameter_supported` must send it. Checked before the code goes
 * anywhere. For an Entra `{tenantid}` issuer, `iss` must be the template filled with an
 * allowed tenant id (the ID token's `tid` is pinned to the same rule later).
 */
export function assertResponseIssuer(idp: Pick<Idp, 'metadata' | 'issuerTemplate'>, response: URLSearchParams): string {
  const { metadata } = idp;
  const values = response.getAll('iss');
  if (values.length === 0) {
    if (metadata.authorization_response_iss_parameter_supported === true) {
      throw new BrokerError('idp_error', {
        description: 'The identity provider did not say who it is (iss) in its response.',
        logMessage:
          'authorization response has no iss although the IdP advertises ' +
          'authorization_response_iss_parameter_supported',
      });
    }
    return 'the IdP sent no iss (RFC 9207) and does not advertise it';
  }
  const [iss] = values;
  if (values.length === 1 && iss !== undefined && issuerMatches(idp, metadata.issuer, iss))
    return `iss ${iss} is the connection's issuer (RFC 9207)`;
  throw new BrokerError('idp_error', {
    description: 'The sign-in response came from another identity provider than the one this sign-in was sent to.',
    logMessage:
      `authorization response iss ${JSON.stringify(values.length === 1 ? iss : values)} ` +
      `is not the connection's issuer ${JSON.stringify(metadata.issuer)}`,
  });
}

function issuerMatches(idp: Pick<Idp, 'issuerTemplate'>, issuer: string, iss: string): boolean {
  const template = idp.issuerTemplate;
  return template ? isConnectionIssuer(template.template, template.allowedTenantIds, iss) : iss === issuer;
}
