/**
 * npm run keys:generate [-- --kid NAME] [--dir DIR] [--days N] [--cn NAME]
 * Writes a new RS256 private key into KEYS_DIR (default ./keys) for private_key_jwt, and beside
 * it a self-signed X.509 certificate of N days (default 730; 0 = none) for IdPs that register
 * keys by certificate (Entra ID). The broker publishes every key's public half at
 * /.well-known/jwks.json and signs with SIGNING_KEY_ID, else the first key by name.
 */
import { parseArgs } from 'node:util';
import { loadBrokerKeys } from '../src/config/broker-keys.js';
import { DEFAULT_CERTIFICATE_DAYS, generateBrokerKey } from '../src/config/generate-broker-key.js';

const { values } = parseArgs({
  options: { kid: { type: 'string' }, dir: { type: 'string' }, days: { type: 'string' }, cn: { type: 'string' } },
});
const dir = values.dir ?? process.env.KEYS_DIR ?? './keys';
const days = values.days === undefined ? DEFAULT_CERTIFICATE_DAYS : Number(values.days);
if (!Number.isInteger(days) || days < 0 || days > 3650) {
  process.stderr.write(`--days must be a whole number of days from 0 to 3650, not ${JSON.stringify(values.days)}\n`);
  process.exit(2);
}
const generated = await generateBrokerKey(dir, { kid: values.kid, certificateDays: days, commonName: values.cn });
const keys = await loadBrokerKeys(dir, process.env.SIGNING_KEY_ID || undefined);
const key = keys.keys.get(generated.kid)!;
const lines = [`wrote ${generated.keyPath} (kid "${generated.kid}")`];
if (generated.certificatePath) {
  lines.push(
    `wrote ${generated.certificatePath}: self-signed, valid until ${key.certificateNotAfter}, x5t#S256 ${key.x5tS256}`,
  );
}
lines.push(
  `${keys.keys.size} key(s) in ${dir}; signing with ${keys.activeKid}${process.env.SIGNING_KEY_ID ? ' (SIGNING_KEY_ID)' : ' (the first by name; SIGNING_KEY_ID chooses another)'}`,
);
process.stdout.write(lines.join('\n') + '\n');
