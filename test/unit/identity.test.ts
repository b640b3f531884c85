import t from 'tap';
import { mapIdentity } from '../../src/oidc/identity.js';

const rules = { subjectClaim: 'sub' as const, assumeEmailVerified: false, claimMapping: {} };

t.test('sub and email; email_verified as asserted', async (t) => {
  t.match(mapIdentity({ sub: 's', email: 'a@b.example', email_verified: false }, rules), {
    subject: 's',
    login: 'a@b.example',
    email: 'a@b.example',
    emailVerified: false,
  });
  t.equal(mapIdentity({ sub: 's', email: 'a@b.example', email_verified: 'true' }, rules).emailVerified, true);
  t.equal(mapIdentity({ sub: 's', email: 'a@b.example' }, rules).emailVerified, null, 'null when the IdP said nothing');
  t.equal(mapIdentity({ sub: 's', email: 'a@b.example' }, { ...rules, assumeEmailVerified: true }).emailVerified, true);
});

t.test('oid for Entra ID; preferred_username when there is no email', async (t) => {
  const identity = mapIdentity(
    { sub: 'pairwise', oid: 'object-id', preferred_username: 'ada@contoso.example' },
    { ...rules, subjectClaim: 'oid' },
  );
  t.equal(identity.subject, 'object-id');
  t.equal(identity.login, 'ada@contoso.example');
  t.notOk('email' in identity);
  t.equal(identity.emailVerified, null);
});

t.test('missing claims are refused', async (t) => {
  t.throws(() => mapIdentity({ email: 'a@b.example' }, rules), { code: 'missing_claims', description: /sub/ });
  t.throws(() => mapIdentity({ sub: 's' }, rules), { code: 'missing_claims' });
  t.throws(() => mapIdentity({ sub: 's', email: '' }, rules), { code: 'missing_claims' });
  t.throws(() => mapIdentity({ sub: 's', email: 'a@b.example' }, { ...rules, subjectClaim: 'oid' }), {
    code: 'missing_claims',
  });
});

t.test('claim mapping with dot paths', async (t) => {
  const identity = mapIdentity(
    { sub: 's', email: 'a@b.example', realm_access: { roles: ['r1', 2, 'r2'] }, display: 'Ada L.' },
    { ...rules, claimMapping: { groups: 'realm_access.roles', name: 'display' } },
  );
  t.same(identity.groups, ['r1', 'r2']);
  t.equal(identity.name, 'Ada L.');
});
