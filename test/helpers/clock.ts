import FakeTimers from '@sinonjs/fake-timers';

/**
 * This process's clock under the test's control, instead of sleeping past a lifetime: `Date`
 * (`Date.now()`, `new Date()`) runs on with real time, and `advance(ms)` moves it forward at
 * once. Whatever checks a TTL, a cooldown or an expiry in this process — the in-process broker,
 * its IdPs, jose's JWKS cache, the test's cookie jar — sees that time pass. Timers, and
 * PostgreSQL's now(), do not move. Uninstalled when the test ends.
 */
export function installClock(t: { teardown(fn: () => unknown): void }): { advance(ms: number): void } {
  const clock = FakeTimers.install({ toFake: ['Date'], shouldAdvanceTime: true, advanceTimeDelta: 5 });
  t.teardown(() => clock.uninstall());
  return { advance: (ms) => clock.setSystemTime(clock.now + ms) };
}
