import { boundedFetch } from './bounded-fetch.js';
import { defaultDiscoveryUrl, idpUrlProblem } from './idp-url.js';

export type CheckId =
  | 'discovery_reachable'
  | 'issuer_match'
  | 'endpoints_present'
  | 'jwks_reachable'
  | 'rs256_supported'
  | 'code_flow_supported'
  | 'pkce_s256'
  | 'auth_method_supported';

export interface Check {
  id: CheckId;
  ok: boolean;
  message: string;
}

export interface ValidationReport {
  ok: boolean;
  checks: Check[];
}

/**
 * What an IdP engineer's handoff needs (contract: POST /admin/connections/:id/validate), one
 * check per line with the reason. Runs every check it can; a check whose input is missing
 * (no discovery document, say) fails with that as its reason.
 */
export async function validateIdp(input: {
  issuer: string;
  discoveryUrl?: string | null | undefined;
  tokenEndpointAuthMethod: string;
  timeoutSeconds: number;
}): Promise<ValidationReport> {
  const fetchBounded = boundedFetch();
  const get = (url: string) => fetchBounded(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(input.timeoutSeconds * 1000), redirect: 'manual' });
  const checks: Check[] = [];
  const add = (id: CheckId, ok: boolean, message: string) => checks.push({ id, ok, message });
  const discoveryUrl = input.discoveryUrl ?? defaultDiscoveryUrl(input.issuer);

  let doc: Record<string, unknown> | undefined;
  try {
    const problem = idpUrlProblem(discoveryUrl);
    if (problem) throw new Error(`discovery URL ${problem}`);
    const response = await get(discoveryUrl);
    if (response.status !== 200) throw new Error(`${discoveryUrl} answered HTTP ${response.status}`);
    const parsed: unknown = await response.json().catch(() => undefined);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${discoveryUrl} did not answer a JSON object`);
    doc = parsed as Record<string, unknown>;
    add('discovery_reachable', true, `fetched ${discoveryUrl}`);
  } catch (error) {
    add('discovery_reachable', false, errorText(error));
  }
  const missing = 'no discovery document';

  if (!doc) add('issuer_match', false, missing);
  else if (doc.issuer === input.issuer) add('issuer_match', true, `issuer is ${JSON.stringify(input.issuer)}`);
  else add('issuer_match', false, `discovery says issuer ${JSON.stringify(doc.issuer)}, the connection says ${JSON.stringify(input.issuer)}${hint(doc.issuer, input.issuer)}`);

  const endpoints = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;
  if (!doc) add('endpoints_present', false, missing);
  else {
    const problems = endpoints.flatMap((name) => {
      const value = doc![name];
      if (typeof value !== 'string') return [`${name} is missing`];
      const problem = idpUrlProblem(value);
      return problem ? [`${name} ${problem}`] : [];
    });
    add('endpoints_present', problems.length === 0, problems.length ? problems.join('; ') : 'authorization, token and JWKS endpoints present');
  }

  if (!doc || typeof doc.jwks_uri !== 'string' || idpUrlProblem(doc.jwks_uri)) add('jwks_reachable', false, doc ? 'no usable jwks_uri' : missing);
  else {
    try {
      const response = await get(doc.jwks_uri);
      if (response.status !== 200) throw new Error(`${doc.jwks_uri} answered HTTP ${response.status}`);
      const jwks = (await response.json().catch(() => undefined)) as { keys?: { kty?: string; use?: string }[] } | undefined;
      if (!Array.isArray(jwks?.keys)) throw new Error(`${doc.jwks_uri} is not a JWK Set`);
      const rsa = jwks.keys.filter((key) => key.kty === 'RSA' && (key.use === undefined || key.use === 'sig'));
      add('jwks_reachable', rsa.length > 0, rsa.length ? `${rsa.length} RSA signing key(s)` : 'the JWKS has no RSA signing key');
    } catch (error) {
      add('jwks_reachable', false, errorText(error));
    }
  }

  const list = (name: string) => (Array.isArray(doc?.[name]) ? (doc![name] as unknown[]) : undefined);
  const algs = list('id_token_signing_alg_values_supported');
  add('rs256_supported', !!algs?.includes('RS256'), !doc ? missing : algs ? `ID token algorithms: ${algs.join(', ')}` : 'id_token_signing_alg_values_supported is missing');
  const responseTypes = list('response_types_supported');
  add('code_flow_supported', !!responseTypes?.includes('code'), !doc ? missing : responseTypes ? `response types: ${responseTypes.join(', ')}` : 'response_types_supported is missing');
  const pkce = list('code_challenge_methods_supported');
  // RFC 8414: absent means the IdP does not say; most still accept S256. Listed without it: refused.
  add('pkce_s256', !doc ? false : !pkce || pkce.includes('S256'), !doc ? missing : pkce ? `PKCE methods: ${pkce.join(', ')}` : 'PKCE methods not advertised; S256 will be sent');
  const methods = list('token_endpoint_auth_methods_supported');
  add(
    'auth_method_supported',
    !!methods?.includes(input.tokenEndpointAuthMethod),
    !doc ? missing : methods ? `token endpoint auth methods: ${methods.join(', ')}` : 'token_endpoint_auth_methods_supported is missing (the default is client_secret_basic only)',
  );
  return { ok: checks.every((check) => check.ok), checks };
}

function hint(found: unknown, expected: string): string {
  if (typeof found !== 'string') return '';
  if (found === `${expected}/` || `${found}/` === expected) return ' (they differ only by a trailing slash, which counts)';
  if (found.toLowerCase() === expected.toLowerCase()) return ' (they differ only in letter case, which counts)';
  return '';
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
