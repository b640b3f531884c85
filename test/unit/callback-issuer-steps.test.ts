import t from 'tap';
import { userinfoWanted } from '../../src/domain/login/callback/add-userinfo.js';
import type { ExchangeResult } from '../../src/oidc/code-exchange.js';
import { assertResponseIssuer } from '../../src/oidc/response-issuer.js';
import { codeOf } from '../helpers/error-code.js';

// The callback's response_issuer and userinfo steps without HTTP.

const ISSUER = 'https://idp.example/tenant-a';
const idpAt = (issuer: string, advertised = false, allowedTenantIds?: string[]) =>
  ({
    metadata: { issuer, ...(advertised && { authorization_response_iss_parameter_supported: true }) },
    ...(allowedTenantIds && { issuerTemplate: { template: issuer, allowedTenantIds } }),
  }) as never;
const params = (query: string) => new URLSearchParams(query);

t.test('response_issuer (RFC 9207): iss, when sent, is exactly the issuer; advertised means required', async (t) => {
  t.equal(
    codeOf(() => assertResponseIssuer(idpAt(ISSUER), params(`code=c&iss=${ISSUER}`))),
    null,
  );
  t.equal(
    codeOf(() => assertResponseIssuer(idpAt(ISSUER), params('code=c'))),
    null,
    'not advertised, not sent',
  );
  t.equal(
    codeOf(() => assertResponseIssuer(idpAt(ISSUER, true), params('code=c'))),
    'idp_error',
    'advertised, missing',
  );
  for (const other of [`${ISSUER}/`, 'https://idp.example/tenant-b', ISSUER.toUpperCase()]) {
    t.equal(
      codeOf(() => assertResponseIssuer(idpAt(ISSUER), params(`code=c&iss=${other}`))),
      'idp_error',
      other,
    );
  }
  t.equal(
    codeOf(() => assertResponseIssuer(idpAt(ISSUER), params(`code=c&iss=${ISSUER}&iss=${ISSUER}`))),
    'idp_error',
    'one iss, not several',
  );
  t.equal(
    codeOf(() => assertResponseIssuer(idpAt(ISSUER), params(`error=access_denied&iss=https://evil.example`))),
    'idp_error',
    'an error response is checked too',
  );
});

t.test('response_issuer for Entra {tenantid}: the template filled with an allowed tenant', async (t) => {
  const template = 'https://login.example/{tenantid}/v2.0';
  const allowed = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const other = '0d2f3c4b-1111-4a2b-9c3d-5e6f7a8b9c0d';
  const entra = idpAt(template, false, [allowed]);
  t.equal(
    codeOf(() => assertResponseIssuer(entra, params(`iss=https://login.example/${allowed}/v2.0`))),
    null,
  );
  t.equal(
    codeOf(() => assertResponseIssuer(entra, params(`iss=https://login.example/${other}/v2.0`))),
    'idp_error',
  );
  t.equal(
    codeOf(() => assertResponseIssuer(entra, params(`iss=${template}`))),
    'idp_error',
    'the bare template',
  );
});

t.test('userinfo is asked when the connection says so, or when the ID token has no email', async (t) => {
  const result = (claims: Record<string, unknown>) =>
    ({ claims: { sub: 's', ...claims } }) as unknown as ExchangeResult;
  t.equal(userinfoWanted(true, { hasUserinfo: true }, result({ email: 'a@b.example' })), true);
  t.equal(userinfoWanted(false, { hasUserinfo: true }, result({ email: 'a@b.example' })), false);
  t.equal(userinfoWanted(false, { hasUserinfo: true }, result({})), true);
  t.equal(userinfoWanted(false, { hasUserinfo: false }, result({})), false, 'no userinfo endpoint');
});
