import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant, verifyDomains } from '../helpers/scenario.js';

// Contract v2, restrictToDomains: a login passes only with an email that is verified
// (email_verified: true, or the connection's assumeEmailVerified) and whose domain is one of
// the tenant's domains; an unverified email, no email, a preferred_username alone is refused
// with domain_not_allowed. Where the IdP asserts the organisation (Google's hd), it must be one
// of the domains too. Any IdP lets its users type an email or a username: only a verified
// address says the account belongs to the organisation.

/** An IdP whose ID token carries `claims` (and whose userinfo says nothing more). */
const idTokenWith = (claims: Record<string, unknown>): Behaviour => ({
  claims: ({ email: _e, email_verified: _v, ...rest }) => ({ ...rest, ...claims }),
  userinfo: ({ email: _e, email_verified: _v, ...rest }) => rest,
});

const rogue = await startRogueIdp(t, {
  verified: idTokenWith({ email: 'ada@acme.example', email_verified: true }),
  'verified-string': idTokenWith({ email: 'ada@acme.example', email_verified: 'true' }),
  unverified: idTokenWith({ email: 'ada@acme.example', email_verified: false }),
  silent: idTokenWith({ email: 'ada@acme.example' }),
  'username-only': idTokenWith({ preferred_username: 'ada@acme.example' }),
  'other-domain': idTokenWith({ email: 'ada@other.example', email_verified: true }),
  'hd-match': idTokenWith({ email: 'ada@acme.example', email_verified: true, hd: 'acme.example' }),
  'hd-other': idTokenWith({ email: 'ada@acme.example', email_verified: true, hd: 'other.example' }),
  'hd-not-a-string': idTokenWith({ email: 'ada@acme.example', email_verified: true, hd: ['acme.example'] }),
});
const broker = await startBroker(t);

async function login(behaviour: string, options: { restrict?: boolean; assumeEmailVerified?: boolean } = {}) {
  const slug = `dom-${behaviour}-${options.restrict === false ? 'open' : 'closed'}-${options.assumeEmailVerified ? 'assume' : 'ask'}`;
  const tenant = await registerAutoLoginTenant(broker, {
    slug,
    issuer: rogue.issuer(behaviour),
    clientSecret: rogue.clientSecret,
    connection: { assumeEmailVerified: options.assumeEmailVerified ?? false },
  });
  const patched = await broker.admin('PATCH', `/admin/tenants/${slug}`, {
    domains: ['acme.example'],
    restrictToDomains: options.restrict ?? true,
  });
  if (patched.status !== 200) throw new Error(`tenant ${slug}: ${patched.status} ${JSON.stringify(patched.body)}`);
  await verifyDomains(broker, slug, ['acme.example']);
  const result = await tenant.login();
  // Domains belong to one tenant at a time: the next case's tenant takes acme.example.
  const removeTenant = () => broker.admin('DELETE', `/admin/tenants/${slug}`);
  return { ...result, app: tenant.app, removeTenant };
}

const cases: [string, { restrict?: boolean; assumeEmailVerified?: boolean }, string | null, string][] = [
  ['verified', {}, null, 'a verified email of a tenant domain passes'],
  ['verified-string', {}, null, 'email_verified "true" (as some IdPs send it) counts as verified'],
  ['unverified', {}, 'domain_not_allowed', 'email_verified false is refused'],
  ['silent', {}, 'domain_not_allowed', 'an email the IdP does not call verified is refused'],
  ['silent', { assumeEmailVerified: true }, null, '…unless the connection assumes its emails are verified'],
  [
    'unverified',
    { assumeEmailVerified: true },
    'domain_not_allowed',
    'assumeEmailVerified never overrides an explicit false',
  ],
  [
    'username-only',
    {},
    'domain_not_allowed',
    'a preferred_username alone is refused, even one that looks like an address of the domain',
  ],
  ['other-domain', {}, 'domain_not_allowed', 'a verified email of another domain is refused'],
  ['hd-match', {}, null, 'Google hd of a tenant domain passes'],
  ['hd-other', {}, 'domain_not_allowed', 'Google hd of another organisation is refused, whatever the email says'],
  ['hd-not-a-string', {}, 'domain_not_allowed', 'an hd that is not a string is refused'],
  ['unverified', { restrict: false }, null, 'without restrictToDomains, any email passes'],
  ['username-only', { restrict: false }, null, 'without restrictToDomains, a username passes'],
];

for (const [behaviour, options, expected, rule] of cases) {
  t.test(`domain rule: ${rule}`, async (t) => {
    const result = await login(behaviour, options);
    t.equal(result.error, expected);
    if (expected === null) t.equal((await redeem(broker, result.app, result.ticket)).status, 200);
    else t.equal(result.ticket, null);
    await result.removeTenant();
  });
}
