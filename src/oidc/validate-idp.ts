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

/**
 * One validation, told twice. Operators (admin API, console) get every detail: the URL, the
 * address a name resolved to, the policy's reason, the connection error. A setup-link holder —
 * someone outside the operators, who can type any issuer — gets the same checks without what
 * a probe would learn: whether a port is open, closed or silent, and what internal names
 * resolve to. Every fetch that did not bring back the expected document reads the same to them.
 */
export interface ValidationReports {
  operators: ValidationReport;
  holder: ValidationReport;
}

/** What a setup-link holder reads when a document could not be fetched, whatever the cause. */
export const NOT_FETCHED =
  'could not be fetched: not allowed by the network policy, or no usable answer (the operators can see which)';

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

export interface ValidateIdpInput {
  issuer: string;
  discoveryUrl?: string | null | undefined;
  tokenEndpointAuthMethod: string;
  timeoutSeconds: number;
  networkPolicy: IdpNetworkPolicy;
  /** The bounded fetch under `networkPolicy`; a fresh one when not given. */
  fetch?: typeof fetch;
}

/** The operators' report (contract: POST /admin/connections/:id/validate). */
export async function validateIdp(input: ValidateIdpInput): Promise<ValidationReport> {
  return (await validateIdpReports(input)).operators;
}

/**
 * What an IdP engineer's handoff needs (contract: POST /admin/connections/:id/validate), one
 * check per line with the reason. Runs every check it can; a check whose input is missing
 * (no discovery document, say) fails with that as its reason. The document's rules are the
 * login path's own (idp-metadata-rules.ts); the fetches go where a login's would, under the
 * same network policy, and a refused URL is named with the reason — for operators; the
 * holder's report says only that it could not be fetched (ValidationReports).
 */
export async function validateIdpReports(input: ValidateIdpInput): Promise<ValidationReports> {
  const fetchBounded = input.fetch ?? boundedFetch({ policy: input.networkPolicy });
  const get = (url: string) =>
    fetchBounded(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(input.timeoutSeconds * 1000),
      redirect: 'manual',
    });
  const checks: Check[] = [];
  const holderChecks: Check[] = [];
  /** A check; `forHolder` when its message holds what only operators may see. */
  const add = (id: CheckId, ok: boolean, message: string, forHolder = message) => {
    checks.push({ id, ok, message });
    holderChecks.push({ id, ok, message: forHolder });
  };
  const discoveryUrl = input.discoveryUrl ?? defaultDiscoveryUrl(input.issuer);

  let doc: Record<string, unknown> | undefined;
  // The URL's own problems need no network: the holder is told them as they are.
  const urlProblem = idpUrlProblem(discoveryUrl) ?? discoveryOriginProblem(input.issuer, discoveryUrl);
  if (urlProblem) add('discovery_reachable', false, `discovery URL ${discoveryUrl} ${urlProblem}`);
  else {
    try {
      const response = await get(discoveryUrl);
      if (response.status !== 200) throw new Error(`${discoveryUrl} answered HTTP ${response.status}`);
      const parsed: unknown = await response.json().catch(() => undefined);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error(`${discoveryUrl} did not answer a JSON object`);
      doc = parsed as Record<string, unknown>;
      add('discovery_reachable', true, `fetched ${discoveryUrl}`);
    } catch (error) {
      add('discovery_reachable', false, errorText(error), `the discovery document ${NOT_FETCHED}`);
    }
  }

  if (!doc) {
    for (const id of ORDER.slice(1)) add(id, false, 'no discovery document');
    return reportsOf(checks, holderChecks);
  }

  for (const check of checkDiscoveredMetadata(doc, input)) {
    if (check.id === 'endpoints_present') {
      // The rules look at the URLs; where they lead is the network policy's to say.
      const problems = await endpointProblems(doc, input.networkPolicy);
      if (problems.length) {
        const refused = problems.map(
          ({ field, url, refused, error }) => `${field} ${refused ? error.message : `${url}: ${errorText(error)}`}`,
        );
        // The holder learns which fields, not where their names lead (nor whether they resolve).
        const forHolder = `${problems.map(({ field }) => field).join(', ')}: not allowed by the network policy`;
        const rules = check.ok ? '' : `${check.message}; `;
        add(check.id, false, `${rules}${refused.join('; ')}`, `${rules}${forHolder}`);
      } else add(check.id, check.ok, check.message);
    } else add(check.id, check.ok, check.message);
  }

  const jwksUri = doc.jwks_uri;
  if (typeof jwksUri !== 'string' || idpUrlProblem(jwksUri)) add('jwks_reachable', false, 'no usable jwks_uri');
  else {
    let jwks: { keys?: { kty?: string; use?: string }[] } | undefined;
    try {
      const response = await get(jwksUri);
      if (response.status !== 200) throw new Error(`${jwksUri} answered HTTP ${response.status}`);
      jwks = (await response.json().catch(() => undefined)) as typeof jwks;
      if (!Array.isArray(jwks?.keys)) throw new Error(`${jwksUri} is not a JWK Set`);
    } catch (error) {
      add('jwks_reachable', false, errorText(error), `the JWKS ${NOT_FETCHED}`);
    }
    if (Array.isArray(jwks?.keys)) {
      const rsa = jwks.keys.filter((key) => key.kty === 'RSA' && (key.use === undefined || key.use === 'sig'));
      add(
        'jwks_reachable',
        rsa.length > 0,
        rsa.length ? `${rsa.length} RSA signing key(s)` : 'the JWKS has no RSA signing key',
      );
    }
  }
  return reportsOf(checks, holderChecks);
}

/** Both reports, in the contract's order of checks. */
function reportsOf(checks: Check[], holderChecks: Check[]): ValidationReports {
  const report = (list: Check[]): ValidationReport => {
    list.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
    return { ok: list.every((check) => check.ok), checks: list };
  };
  return { operators: report(checks), holder: report(holderChecks) };
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
