import t from 'tap';
import { SnapshotStore } from '../../src/http/rate-limit-store.js';

// Bug (found in issue 11): @fastify/rate-limit's LocalStore hands its callback its own mutable
// record, and the plugin reads it a microtask later. Requests that resumed together (ten
// redemptions waiting on one cached app lookup) all read the count of the last one, so all
// were refused though the first were within the limit. SnapshotStore answers with a copy.

t.test('requests counted together each see their own count', async (t) => {
  const store = new SnapshotStore();
  const seen: number[] = [];
  await new Promise<void>((done) => {
    let pending = 5;
    for (let i = 0; i < 5; i++) {
      store.incr(
        'app-1',
        (error, result) => {
          t.error(error);
          // As the plugin does: the count is read after the other increments have run.
          queueMicrotask(() => {
            seen.push(result!.current);
            if (--pending === 0) done();
          });
        },
        60_000,
        3,
      );
    }
  });
  t.same(seen, [1, 2, 3, 4, 5], 'the first three are within a limit of 3, the last two past it');
});

t.test('a route store (child) counts on its own', async (t) => {
  const store = new SnapshotStore().child({});
  const count = () =>
    new Promise<number>((resolve, reject) =>
      store.incr('k', (error, result) => (error ? reject(error) : resolve(result!.current)), 60_000, 10),
    );
  t.equal(await count(), 1);
  t.equal(await count(), 2);
});
