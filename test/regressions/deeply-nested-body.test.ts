import { monitorEventLoopDelay } from 'node:perf_hooks';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';

// Bug (review of issue 21's fix D): the one NUL guard for every route walked a parsed body by
// recursion, before any authentication, copying the path at every level. A JSON body of a few
// KiB of `[[[[…` — sent by anyone, to redemption without credentials — cost time growing with
// the square of its depth (0.7 s at depth 1,000) and overflowed the call stack at depth 5,000:
// a RangeError, answered 500. The walk now keeps its own stack, and input nested deeper than 32
// levels is 400 invalid_request before it is looked at further.

const broker = await startBroker(t);

t.test('a deeply nested body is 400 invalid_request at once, on every audience, never 500', async (t) => {
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  for (const [path, headers] of [
    ['/api/sso/tickets/redeem', {}],
    ['/admin/tenants', { authorization: `Bearer ${broker.adminToken}` }],
    ['/api/sso/login', {}],
  ] as const) {
    const response = await fetch(`${broker.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: deep,
    });
    t.not(response.status, 500, `${path}: no 500`);
    t.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status}`);
  }
  const redeem = await fetch(`${broker.url}/api/sso/tickets/redeem`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: deep,
  });
  t.equal(redeem.status, 400);
  t.equal(((await redeem.json()) as { error: string }).error, 'invalid_request');
  delay.disable();
  t.ok(delay.max < 100e6, `the event loop never stalled 100 ms (max ${(delay.max / 1e6).toFixed(1)} ms)`);

  const shallow = await broker.admin('POST', '/admin/tenants', { slug: 'nested-ok', name: 'N', domains: [] });
  t.equal(shallow.status, 201, 'ordinary bodies still pass');
});
