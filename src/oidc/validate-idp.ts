import { boundedFetch } from './bounded-fetch.js';
import { checkDiscoveredMetadata, endpointProblems, type MetadataCheckId } from './idp-metadata-rules.js';
import { defaultDiscoveryUrl, discoveryOriginProblem, idpUrlProblem } from './idp-url.js';
import { IdpAddressRefused, type IdpNetworkPolicy } from './network-policy.js';

export type CheckId = 'discovery_reachable' | 'jwks_reachable' | MetadataCheckId;

export interface Check {
  id: CheckId;
  ok: boolean;
  message: string;
}

export interface ValidationReport {
  ok: boolean;
  checks: Check[];
}

/** The contract's order of checks. */
const ORDER: CheckId[] = [
  'discovery_reachable',
  'issuer_match',
  'endpoints_present',
  'jwks_reachable',
  'rs256_supported',
  'code_flow_supported',
  'pkce_s256',
  'auth_method_supported',
];

/**
 * What an IdP engineer's handoff needs (contract: POST /admin/connections/:id/validate), one
 * check per line with the reason. Runs every check it can; a check whose input is missing
 * (no discovery document, say) fails with that as its reason. The document's rules are the
 * login path's own (idp-metadata-rules.ts); the fetches go where a login's would, under the
 * same network policy, and a refused URL is named with the reason.
 */
export async function validateIdp(input: {
  issuer: string;
  discoveryUrl?: string | null | undefined;
  tokenEndpointAuthMethod: string;
  timeoutSeconds: number;
  networkPolicy: IdpNetworkPolicy;
  /** The bounded fetch under `networkPolicy`; a fresh one when not given. */
  fetch?: typeof fetch;
}): Promise<ValidationReport> {
  const fetchBounded = input.fetch ?? boundedFetch({ policy: input.networkPolicy });
  const get = (url: string) =>
    fetchBounded(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(input.timeoutSeconds * 1000),
      redirect: 'manual',
    });
  const checks: Check[] = [];
  const add = (id: CheckId, ok: boolean, message: string) => checks.push({ id, ok, message });
  const discoveryUrl = input.discoveryUrl ?? defaultDiscoveryUrl(input.issuer);

  let doc: Record<string, unknown> | undefined;
  try {
    const problem = idpUrlProblem(discoveryUrl) ?? discoveryOriginProblem(input.issuer, discoveryUrl);
    if (problem) throw new Error(`discovery URL ${discoveryUrl} ${problem}`);
    const response = await get(discoveryUrl);
    if (response.status !== 200) throw new Error(`${discoveryUrl} answered HTTP ${response.status}`);
    const parsed: unknown = await response.json().catch(() => undefined);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error(`${discoveryUrl} did not answer a JSON object`);
    doc = parsed as Record<string, unknown>;
    add('discovery_reachable', true, `fetched ${discoveryUrl}`);
  } catch (error) {
    add('discovery_reachable', false, errorText(error));
  }

  if (!doc) {
    for (const id of ORDER.slice(1)) add(id, false, 'no discovery document');
    return { ok: false, checks };
  }

  for (const check of checkDiscoveredMetadata(doc, input)) {
    if (check.id === 'endpoints_present') {
      // The rules look at the URLs; where they lead is the network policy's to say.
      const refused = (await endpointProblems(doc, input.networkPolicy)).map(
        ({ field, url, refused, error }) => `${field} ${refused ? error.message : `${url}: ${errorText(error)}`}`,
      );
      if (refused.length)
        add(check.id, false, check.ok ? refused.join('; ') : `${check.message}; ${refused.join('; ')}`);
      else add(check.id, check.ok, check.message);
    } else add(check.id, check.ok, check.message);
  }

  const jwksUri = doc.jwks_uri;
  if (typeof jwksUri !== 'string' || idpUrlProblem(jwksUri)) add('jwks_reachable', false, 'no usable jwks_uri');
  else {
    try {
      const response = await get(jwksUri);
      if (response.status !== 200) throw new Error(`${jwksUri} answered HTTP ${response.status}`);
      const jwks = (await response.json().catch(() => undefined)) as
        { keys?: { kty?: string; use?: string }[] } | undefined;
      if (!Array.isArray(jwks?.keys)) throw new Error(`${jwksUri} is not a JWK Set`);
      const rsa = jwks.keys.filter((key) => key.kty === 'RSA' && (key.use === undefined || key.use === 'sig'));
      add(
        'jwks_reachable',
        rsa.length > 0,
        rsa.length ? `${rsa.length} RSA signing key(s)` : 'the JWKS has no RSA signing key',
      );
    } catch (error) {
      add('jwks_reachable', false, errorText(error));
    }
  }
  checks.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
  return { ok: checks.every((check) => check.ok), checks };
}

function errorText(error: unknown): string {
  if (error instanceof IdpAddressRefused) return error.message;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
