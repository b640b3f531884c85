import t from 'tap';
import { ConsolePin, isPinned } from '../../src/domain/login/console-pin.js';
import type { StoredPin } from '../../src/domain/login/console-pin.repo.js';

// The console's pinned issuers (console-pin.ts), against a repository that answers as told: the
// database's side is played through HTTP in integration/console-tenant-attack.

function pinWith(answers: (() => StoredPin)[], options: { tenant?: string; issuer?: string } = {}) {
  const calls: [string, string | undefined][] = [];
  const lines: { level: string; obj: object; msg: string }[] = [];
  const pin = new ConsolePin({
    tenantSlug: 'tenant' in options ? options.tenant : 'ops',
    issuer: options.issuer,
    repo: {
      pin: async (slug, issuer) => {
        calls.push([slug, issuer]);
        const answer = answers.shift();
        if (!answer) throw new Error('no more answers');
        return answer();
      },
    },
    log: {
      info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    },
  });
  return { pin, calls, lines };
}

const at = new Date('2026-12-07T10:00:00Z');

t.test('the stored pin is read once, at start-up, and named in the log', async (t) => {
  const { pin, calls, lines } = pinWith([() => ({ issuers: ['https://idp.ops.example'], pinnedAt: at })]);
  await pin.load();
  t.same(await pin.issuers(), ['https://idp.ops.example']);
  t.same(await pin.issuers(), ['https://idp.ops.example']);
  t.same(calls, [['ops', undefined]], 'one query');
  t.match(lines, [{ level: 'info', obj: { issuers: ['https://idp.ops.example'] }, msg: /set CONSOLE_ISSUER/ }]);
});

t.test('nothing pinned: an empty list, a warning that says what to do, and no query per sign-in', async (t) => {
  const { pin, calls, lines } = pinWith([() => ({ issuers: [], pinnedAt: at })]);
  await pin.load();
  t.same(await pin.issuers(), []);
  t.equal(calls.length, 1);
  t.match(lines, [{ level: 'warn', msg: /no issuer is pinned.*set CONSOLE_ISSUER, or restart/ }]);
});

t.test('CONSOLE_ISSUER decides without the database, and is stored as the pin', async (t) => {
  const { pin, calls, lines } = pinWith([() => ({ issuers: ['https://old.example'], pinnedAt: at })], {
    issuer: 'https://new.example/',
  });
  t.same(await pin.issuers(), ['https://new.example/'], 'before start-up');
  await pin.load();
  t.same(await pin.issuers(), ['https://new.example/'], 'whatever the row said');
  t.same(calls, [['ops', 'https://new.example/']]);
  t.match(lines, [{ level: 'info', msg: /CONSOLE_ISSUER only/ }]);
});

t.test('a database away at start-up is logged; the first sign-in reads the pin then', async (t) => {
  const { pin, calls, lines } = pinWith([
    () => {
      throw new Error('connection refused');
    },
    () => ({ issuers: ['https://idp.ops.example'], pinnedAt: at }),
  ]);
  await pin.load();
  t.match(lines, [{ level: 'warn', msg: /could not read the pinned issuer/ }]);
  const [a, b] = await Promise.all([pin.issuers(), pin.issuers()]);
  t.same(a, ['https://idp.ops.example']);
  t.same(b, a);
  t.equal(calls.length, 2, 'concurrent sign-ins share one query');
});

t.test('without CONSOLE_TENANT there is nothing to pin and no query', async (t) => {
  const { pin, calls } = pinWith([], { tenant: undefined });
  await pin.load();
  t.same(await pin.issuers(), []);
  t.equal(calls.length, 0);
});

t.test('a login is pinned by its validated ID token’s iss, exactly; an Entra template pins nobody', async (t) => {
  const template = 'https://login.microsoftonline.com/{tenantid}/v2.0';
  const concrete = 'https://login.microsoftonline.com/1111-2222/v2.0';
  t.ok(isPinned([concrete], concrete));
  // A multi-tenant connection's configured issuer would admit every tenant it accepts.
  t.notOk(isPinned([template], concrete), 'a pinned template does not admit a tenant of it');
  t.notOk(isPinned([template], template), 'nor a token claiming the template itself');
  t.notOk(isPinned([concrete], 'https://rogue.example'));
  t.notOk(isPinned([], concrete));
  t.notOk(isPinned(['https://idp.example/'], 'https://idp.example'), 'compared exactly, no slash normalisation');
});
