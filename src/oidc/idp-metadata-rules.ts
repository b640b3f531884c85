import { BrokerError } from '../errors/broker-error.js';
import { idpUrlProblem } from './idp-url.js';
import { IdpAddressRefused, type IdpNetworkPolicy } from './network-policy.js';

/**
 * The rules a discovery document must pass, in one place for both of its readers: the
 * validation report (validate-idp.ts) shows every rule's result, and the login path
 * (idp-registry.ts) refuses an IdP on the first rule it fails. The report and the logins
 * therefore cannot disagree about a document.
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */

export type MetadataCheckId =
  | 'issuer_match'
  | 'endpoints_present'
  | 'rs256_supported'
  | 'code_flow_supported'
  | 'pkce_s256'
  | 'auth_method_supported';

export interface MetadataCheck {
  id: MetadataCheckId;
  ok: boolean;
  /** For the IdP engineer: what was found, and on failure what is wrong. */
  message: string;
}

/** What the rules need of a connection. */
export interface MetadataExpectations {
  /** Compared exactly; a `{tenantid}` template (Entra ID multi-tenant) literally, as Entra publishes it. */
  issuer: string;
  tokenEndpointAuthMethod: string;
}

/** Every endpoint a discovery document may name that the broker or the learner's browser uses. */
export const ENDPOINT_FIELDS = [
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'userinfo_endpoint',
  'end_session_endpoint',
] as const;
export type EndpointField = (typeof ENDPOINT_FIELDS)[number];
const REQUIRED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;

/** Safe to show the learner and the app (no upstream text): why the IdP was refused. */
const DESCRIPTIONS: Record<MetadataCheckId, string> = {
  issuer_match:
    "The identity provider's discovery document names another issuer than this connection is configured with.",
  endpoints_present:
    "The identity provider's discovery document lacks an endpoint the sign-in needs, or names one the broker may " +
    'not use.',
  rs256_supported: 'The identity provider does not sign ID tokens with RS256.',
  code_flow_supported: 'The identity provider does not offer the authorization code flow.',
  pkce_s256: 'The identity provider does not support PKCE with S256.',
  auth_method_supported: "The identity provider does not accept this connection's client authentication method.",
};

/** Each rule's result, in the contract's order, for a document that was fetched and parsed. */
export function checkDiscoveredMetadata(doc: Record<string, unknown>, expected: MetadataExpectations): MetadataCheck[] {
  const checks: MetadataCheck[] = [];
  const add = (id: MetadataCheckId, ok: boolean, message: string) => checks.push({ id, ok, message });

  // Exact (OpenID Connect Discovery §4.3): no slash or case normalisation.
  if (doc.issuer === expected.issuer) add('issuer_match', true, `issuer is ${JSON.stringify(expected.issuer)}`);
  else
    add(
      'issuer_match',
      false,
      `discovery says issuer ${JSON.stringify(doc.issuer)}, the connection says ${JSON.stringify(expected.issuer)}` +
        hint(doc.issuer, expected.issuer),
    );

  const problems = [
    ...REQUIRED_ENDPOINTS.filter((field) => doc[field] === undefined).map((field) => `${field} is missing`),
    ...ENDPOINT_FIELDS.flatMap((field) => {
      const value = doc[field];
      if (value === undefined) return [];
      if (typeof value !== 'string') return [`${field} is not a URL`];
      const problem = idpUrlProblem(value);
      return problem ? [`${field} ${value} ${problem}`] : [];
    }),
  ];
  add(
    'endpoints_present',
    problems.length === 0,
    problems.length ? problems.join('; ') : 'authorization, token and JWKS endpoints present',
  );

  const algs = list(doc, 'id_token_signing_alg_values_supported');
  add(
    'rs256_supported',
    !!algs?.includes('RS256'),
    algs ? `ID token algorithms: ${algs.join(', ')}` : 'id_token_signing_alg_values_supported is missing',
  );

  const responseTypes = list(doc, 'response_types_supported');
  add(
    'code_flow_supported',
    !!responseTypes?.includes('code'),
    responseTypes ? `response types: ${responseTypes.join(', ')}` : 'response_types_supported is missing',
  );

  // RFC 8414 §2: absent means the IdP does not say; most still accept S256, which the broker
  // always sends. Listed without it: refused.
  const pkce = list(doc, 'code_challenge_methods_supported');
  add(
    'pkce_s256',
    !pkce || pkce.includes('S256'),
    pkce ? `PKCE methods: ${pkce.join(', ')}` : 'PKCE methods not advertised; S256 will be sent',
  );

  // RFC 8414 §2 and OpenID Connect Discovery §3: absent means client_secret_basic only.
  const methods = list(doc, 'token_endpoint_auth_methods_supported');
  const method = expected.tokenEndpointAuthMethod;
  const supported = !!methods?.includes(method);
  add(
    'auth_method_supported',
    supported,
    methods
      ? `token endpoint auth methods: ${methods.join(', ')}${supported ? '' : `; the connection uses ${method}`}`
      : 'token_endpoint_auth_methods_supported is missing ' +
          `(the default is client_secret_basic only; the connection uses ${method})`,
  );
  return checks;
}

/** The login path's use of the rules: idp_error on the first rule the document fails. */
export function assertDiscoveredMetadata(doc: Record<string, unknown>, expected: MetadataExpectations): void {
  const failed = checkDiscoveredMetadata(doc, expected).find((check) => !check.ok);
  if (failed) {
    throw new BrokerError('idp_error', {
      description: DESCRIPTIONS[failed.id],
      logMessage: `discovery rule ${failed.id} failed: ${failed.message}`,
    });
  }
}

function list(doc: Record<string, unknown>, name: string): unknown[] | undefined {
  const value = doc[name];
  return Array.isArray(value) ? value : undefined;
}

function hint(found: unknown, expected: string): string {
  if (typeof found !== 'string') return '';
  if (found === `${expected}/` || `${found}/` === expected)
    return ' (they differ only by a trailing slash, which counts)';
  if (found.toLowerCase() === expected.toLowerCase()) return ' (they differ only in letter case, which counts)';
  return '';
}

/** An endpoint of a discovery document that the network policy refuses, or that cannot be resolved. */
export interface EndpointProblem {
  field: EndpointField;
  url: string;
  /** The policy refused it (IdpAddressRefused); otherwise the name did not resolve. */
  refused: boolean;
  error: Error;
}

/**
 * Every endpoint a discovery document names (that passes the URL rules), against the network
 * policy — once per discovery, so a login is refused before the learner is sent to sign in,
 * and the report names each. The endpoints the broker calls are checked again on every
 * connection (bounded-fetch.ts); those only the browser visits (authorization, end-session),
 * only here.
 */
export async function endpointProblems(
  doc: Record<string, unknown>,
  policy: Pick<IdpNetworkPolicy, 'assertAllowed'>,
): Promise<EndpointProblem[]> {
  const problems = await Promise.all(
    ENDPOINT_FIELDS.map(async (field): Promise<EndpointProblem | undefined> => {
      const url = doc[field];
      if (typeof url !== 'string' || idpUrlProblem(url)) return undefined;
      try {
        await policy.assertAllowed(url);
        return undefined;
      } catch (error) {
        return { field, url, refused: error instanceof IdpAddressRefused, error: error as Error };
      }
    }),
  );
  return problems.filter((problem): problem is EndpointProblem => problem !== undefined);
}
