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
