import t from 'tap';
import { AttemptOutcomes } from '../../src/domain/login/attempt-outcomes.js';
import type { LoginTransaction } from '../../src/domain/login/login-transaction.js';
import { createMetrics } from '../../src/observability/metrics.js';

// Bug (found in issue 12): a test login carried `appId: ''` as a sentinel, so a failed or
// expired test login was audited with app_id = '' — an app id nobody has. The transaction's
// purpose is now a typed union, and a test login is audited without an app (NULL).

const tenant = { id: 't1', slug: 'acme', name: 'Acme', domains: [], restrictToDomains: false };
const connection = { id: 'c1', tenantId: 't1' };

function outcomesRecording(rows: Record<string, unknown>[]) {
  return new AttemptOutcomes({
    connections: { findById: async () => connection as never },
    tenants: { findById: async () => tenant as never },
    audit: { record: async (row: Record<string, unknown>) => void rows.push(row) } as never,
    metrics: createMetrics(),
  } as never);
}

const tx = (purpose: LoginTransaction['purpose']): LoginTransaction => ({
  state: 's',
  nonce: 'n',
  codeVerifier: 'v',
  connectionId: 'c1',
  settings: 'f',
  createdAt: Date.now() - 1_000,
  purpose,
});

t.test('a failed test login is audited with no app, an app login with its app', async (t) => {
  const rows: Record<string, unknown>[] = [];
  const outcomes = outcomesRecording(rows);
  await outcomes.failed(tx({ kind: 'test' }), 'login_expired');
  await outcomes.failed(tx({ kind: 'app', appId: 'app-1', returnToHash: 'h' }), 'login_expired');
  t.same(
    rows.map((row) => [row.appId, row.error, row.outcome]),
    [
      [null, 'login_expired', 'failure'],
      ['app-1', 'login_expired', 'failure'],
    ],
  );
});
