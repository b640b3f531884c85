import { randomUUID } from 'node:crypto';
import t from 'tap';
import { MAX_SEALED_TICKET } from '../../src/domain/tickets/ticket.service.js';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';

// Tickets come in two forms with one contract. Usually self-contained: sealed for its app,
// nothing written until it is redeemed, then one INSERT claims it. When the identity would
// make the app's return URL too long (an ID token with hundreds of groups), the ticket is
// stored instead. Both redeem exactly once, with the same answer.

const groups = Array.from({ length: 300 }, () => randomUUID());
const rogue = await startRogueIdp(t, {
  small: {},
  'many-groups': { claims: (claims) => ({ ...claims, groups }) },
});
const broker = await startBroker(t);
const rows = async () =>
  (await broker.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets')).rows[0]!.n;

for (const [name, form] of [
  ['small', 'self-contained'],
  ['many-groups', 'stored'],
] as const) {
  t.test(`${form} ticket (${name}): minted, redeemed once, with the identity`, async (t) => {
    const tenant = await registerAutoLoginTenant(broker, {
      slug: `forms-${name}`,
      issuer: rogue.issuer(name),
      clientSecret: rogue.clientSecret,
      connection: { claimMapping: { groups: 'groups' } },
    });
    const before = await rows();
    const { ticket, error } = await tenant.login();
    t.equal(error, null);
    if (form === 'self-contained') {
      t.ok(ticket!.length <= MAX_SEALED_TICKET, `fits a URL (${ticket!.length} characters)`);
      t.equal(await rows(), before, 'minting wrote nothing');
    } else {
      t.ok(ticket!.length < 100, 'a short random ticket');
      t.equal(await rows(), before + 1, 'the stored ticket');
    }
    const answers = await Promise.all(Array.from({ length: 5 }, () => redeem(broker, tenant.app, ticket)));
    const ok = answers.filter((a) => a.status === 200);
    t.equal(ok.length, 1, 'exactly one redemption succeeds');
    t.same(
      answers.filter((a) => a.status !== 200).map((a) => a.body.error),
      ['invalid_ticket', 'invalid_ticket', 'invalid_ticket', 'invalid_ticket'],
    );
    t.equal(ok[0]!.body.tenant, `forms-${name}`);
    t.equal(ok[0]!.body.groups.length, name === 'small' ? 0 : 300);
    t.match(ok[0]!.body.session, /^[A-Za-z0-9_-]{20,}$/);
    t.equal(await rows(), before + 1, 'one row: the session, for logout');
  });
}
