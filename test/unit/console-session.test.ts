import { randomBytes } from 'node:crypto';
import t from 'tap';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { CONSOLE_IDLE_MS, CONSOLE_MAX_MS, ConsoleSessions } from '../../src/http/console/console-session.js';

// The console's session cookie: sealed, idle timeout, absolute timeout, CSRF token. (What is
// stored of a session, and when it ends, is played through HTTP: integration/console-sessions.)

/** Sessions whose cookies alone are looked at here: nothing is stored. */
const cookieOnly = (box: SecretBox) =>
  new ConsoleSessions({
    box,
    store: {
      create: async () => {},
      findLive: async () => undefined,
      touch: async () => {},
      revoke: async () => {},
    },
    adminToken: undefined,
    sso: { admits: async () => false },
  });
const sessions = cookieOnly(new SecretBox([randomBytes(32)]));
const start = Date.parse('2026-11-30T10:00:00Z');

t.test('a session opens while in use, and not after 30 idle minutes or 12 hours', async (t) => {
  const session = sessions.issue('session-1', 'admin token', start);
  const sealed = sessions.seal(session);
  t.match(sessions.open(sealed, start + 1000), { id: 'session-1', actor: 'admin token', csrf: session.csrf });
  t.equal(sessions.open(sealed, start + CONSOLE_IDLE_MS + 1), undefined, 'idle too long');
  // Each request slides the idle timeout, up to the absolute limit.
  let current = sealed;
  let now = start;
  while (now + CONSOLE_IDLE_MS / 2 < start + CONSOLE_MAX_MS) {
    now += CONSOLE_IDLE_MS / 2;
    const opened = sessions.open(current, now);
    t.ok(opened, `still signed in at +${(now - start) / 60000} min`);
    if (!opened) return;
    current = sessions.seal(opened);
  }
  t.equal(sessions.open(current, start + CONSOLE_MAX_MS + 1), undefined, 'never past 12 hours');
});

t.test('a tampered, foreign or oversized cookie opens nothing; CSRF tokens compare exactly', async (t) => {
  const session = sessions.issue('session-2', 'ada@example.com', start);
  const sealed = sessions.seal(session);
  t.equal(sessions.open(`${sealed.slice(0, -2)}xx`, start), undefined);
  t.equal(cookieOnly(new SecretBox([randomBytes(32)])).open(sealed, start), undefined, 'another key');
  t.equal(sessions.open('x'.repeat(3000), start), undefined);
  t.equal(sessions.open(undefined, start), undefined);
  t.ok(sessions.csrfMatches(session, session.csrf));
  t.notOk(sessions.csrfMatches(session, `${session.csrf}x`));
  t.notOk(sessions.csrfMatches(session, undefined));
  t.notOk(sessions.csrfMatches(session, ['a']));
});
