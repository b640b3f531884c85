/**
 * npm run validate-idp -- --issuer URL [--discovery-url URL] [--auth-method client_secret_post|private_key_jwt]
 *                         [--private-networks CIDR,...] [--timeout SECONDS]
 *
 * The discovery report an IdP engineer's handoff needs, before any connection exists: one
 * line per check with its reason; exit code 1 when a check fails, 2 on wrong arguments.
 * IdP URLs are held to the broker's network policy: the networks besides public addresses
 * come from --private-networks, else IDP_PRIVATE_NETWORKS, else the broker's own default for
 * this environment (loopback without DATABASE_URL, none with it), so the report is the one a
 * broker started here would give.
 */
import { parseArgs } from 'node:util';
import { DEVELOPMENT_IDP_NETWORKS } from '../src/config/config.js';
import { IdpNetworkPolicy } from '../src/oidc/network-policy.js';
import { validateIdp } from '../src/oidc/validate-idp.js';

const USAGE = `usage: npm run validate-idp -- --issuer URL [--discovery-url URL] [--auth-method client_secret_post|private_key_jwt]
                              [--private-networks CIDR,...] [--timeout SECONDS]

  --private-networks  networks IdP hosts may resolve to besides public addresses (http only on
                      listed loopback addresses); default: the IDP_PRIVATE_NETWORKS environment
                      variable, else ${DEVELOPMENT_IDP_NETWORKS.join(',')} without DATABASE_URL and none with it
`;

let values: {
  issuer?: string;
  'discovery-url'?: string;
  'auth-method'?: string;
  timeout?: string;
  'private-networks'?: string;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      issuer: { type: 'string' },
      'discovery-url': { type: 'string' },
      'auth-method': { type: 'string' },
      timeout: { type: 'string' },
      'private-networks': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const method = values['auth-method'] ?? 'client_secret_post';
if (!values.issuer || !['client_secret_post', 'private_key_jwt'].includes(method)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
// The entry point reads its environment, as main.ts does; nothing below it does.
const networks = values['private-networks'] ?? process.env.IDP_PRIVATE_NETWORKS;
let networkPolicy: IdpNetworkPolicy;
try {
  networkPolicy = new IdpNetworkPolicy({
    privateNetworks:
      networks === undefined
        ? process.env.DATABASE_URL === undefined
          ? DEVELOPMENT_IDP_NETWORKS
          : []
        : networks
            .split(',')
            .map((cidr) => cidr.trim())
            .filter(Boolean),
  });
} catch (error) {
  process.stderr.write(`--private-networks / IDP_PRIVATE_NETWORKS: ${(error as Error).message}\n`);
  process.exit(2);
}
const report = await validateIdp({
  issuer: values.issuer,
  discoveryUrl: values['discovery-url'],
  tokenEndpointAuthMethod: method,
  timeoutSeconds: Number(values.timeout ?? 10),
  networkPolicy,
});
for (const check of report.checks)
  process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.id.padEnd(22)} ${check.message}\n`);
process.stdout.write(report.ok ? 'all checks passed\n' : 'some checks failed\n');
process.exit(report.ok ? 0 : 1);
