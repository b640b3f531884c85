import { isLoopbackHost } from '../config/env.schema.js';

/**
 * IdP URLs (issuer, discovery and every endpoint a discovery document names) must be https;
 * plain http is accepted only on loopback hosts, for development and tests. This is the check
 * that needs no network, for saving a URL; where a URL may actually connect to is decided when
 * connecting, by the network policy (network-policy.ts), which may refuse more.
 */
export function idpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must use https (http only on loopback hosts)';
}

/** openid-client refuses http unless told; the network policy has decided whether it may. */
export function usesPlainHttp(value: string): boolean {
  return new URL(value).protocol === 'http:';
}

/**
 * OpenID Connect Discovery 1.0 §4: the configuration document lives at the issuer with any
 * terminating "/" removed, followed by "/.well-known/openid-configuration". An issuer template
 * (`{tenantid}`, Entra ID multi-tenant) is discovered where Entra publishes it: /organizations.
 */
export function defaultDiscoveryUrl(issuer: string): string {
  return `${issuer.replaceAll('{tenantid}', 'organizations').replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * Contract v2 (issuer squatting): a discovery URL must be on its issuer's origin — same scheme,
 * host and port — so that no connection borrows another IdP's issuer while its metadata, and so
 * its signing keys, come from elsewhere. `{tenantid}` is a path placeholder, never the origin.
 */
export function discoveryOriginProblem(issuer: string, discoveryUrl: string): string | undefined {
  const origin = (value: string) => URL.parse(value.replaceAll('{tenantid}', 'tenant'))?.origin;
  const expected = origin(issuer);
  if (expected !== undefined && expected !== 'null' && origin(discoveryUrl) === expected) return undefined;
  return `must be on the issuer's origin (${expected ?? issuer}): same scheme, host and port`;
}
