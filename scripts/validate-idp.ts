/**
 * npm run validate-idp -- --issuer URL [--discovery-url URL] [--auth-method client_secret_post|private_key_jwt]
 *
 * The discovery report an IdP engineer's handoff needs, before any connection exists: one
 * line per check with its reason; exit code 1 when a check fails, 2 on wrong arguments.
 */
import { parseArgs } from 'node:util';
import { validateIdp } from '../src/oidc/validate-idp.js';

let values: { issuer?: string; 'discovery-url'?: string; 'auth-method'?: string; timeout?: string };
try {
  ({ values } = parseArgs({
    options: { issuer: { type: 'string' }, 'discovery-url': { type: 'string' }, 'auth-method': { type: 'string' }, timeout: { type: 'string' } },
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const method = values['auth-method'] ?? 'client_secret_post';
if (!values.issuer || !['client_secret_post', 'private_key_jwt'].includes(method)) {
  process.stderr.write('usage: npm run validate-idp -- --issuer URL [--discovery-url URL] [--auth-method client_secret_post|private_key_jwt]\n');
  process.exit(2);
}
const report = await validateIdp({
  issuer: values.issuer,
  discoveryUrl: values['discovery-url'],
  tokenEndpointAuthMethod: method,
  timeoutSeconds: Number(values.timeout ?? 10),
});
for (const check of report.checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.id.padEnd(22)} ${check.message}\n`);
process.stdout.write(report.ok ? 'all checks passed\n' : 'some checks failed\n');
process.exit(report.ok ? 0 : 1);
