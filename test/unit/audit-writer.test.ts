import t from 'tap';
import { AuditWriter, type TimedAttempt } from '../../src/domain/audit/audit-writer.js';
import { waitFor } from '../helpers/wait.js';

// Login attempts are written in batches off the login path: one INSERT per interval, each
// attempt with its own time, retried when the write fails, bounded while the database is away.

const attempt = (error: string) => ({
  tenantId: 't1',
  connectionId: 'c1',
  appId: 'a1',
  outcome: 'failure' as const,
  error,
  durationMs: 5,
  requestId: null,
});

function writerWith(fail: () => boolean, options: { maxPending?: number } = {}) {
  const batches: TimedAttempt[][] = [];
  const warnings: string[] = [];
  const writer = new AuditWriter({
    audit: {
      recordMany: async (rows) => {
        if (fail()) throw new Error('database away');
        batches.push([...rows]);
      },
    },
    log: { warn: (_obj, msg) => void warnings.push(msg) },
    intervalMs: 20,
    ...options,
  });
  return { writer, batches, warnings };
}

t.test('attempts recorded together are written as one batch, in order, with their own times', async (t) => {
  const { writer, batches } = writerWith(() => false);
  const before = Date.now();
  writer.record(attempt('a'));
  writer.record(attempt('b'));
  writer.record(attempt('c'));
  t.equal(batches.length, 0, 'nothing is written while the login runs');
  t.ok(await waitFor(() => batches.length === 1, 2_000), 'written within the interval');
  t.same(
    batches[0]!.map((row) => row.error),
    ['a', 'b', 'c'],
  );
  t.ok(batches[0]!.every((row) => row.at.getTime() >= before && row.at.getTime() <= Date.now()));
  await writer.close();
});

t.test('a failed write is retried with the same attempts; close() writes what is left', async (t) => {
  let failing = true;
  const { writer, batches, warnings } = writerWith(() => failing);
  writer.record(attempt('a'));
  t.ok(await waitFor(() => warnings.length > 0, 2_000), 'the failure is logged');
  failing = false;
  writer.record(attempt('b'));
  t.ok(await waitFor(() => batches.length === 1, 2_000));
  t.same(
    batches[0]!.map((row) => row.error),
    ['a', 'b'],
    'nothing lost, order kept',
  );
  writer.record(attempt('c'));
  await writer.close();
  t.same(
    batches.flat().map((row) => row.error),
    ['a', 'b', 'c'],
    'close() flushes at once',
  );
});

t.test('while the database is away, at most maxPending attempts wait; the rest are counted', async (t) => {
  let failing = true;
  const { writer, batches, warnings } = writerWith(() => failing, { maxPending: 3 });
  for (const name of ['a', 'b', 'c', 'd', 'e']) writer.record(attempt(name));
  t.ok(await waitFor(() => warnings.some((w) => /dropped/.test(w)), 2_000), 'the dropped attempts are logged');
  failing = false;
  await writer.close();
  t.same(
    batches.flat().map((row) => row.error),
    ['a', 'b', 'c'],
  );
});
