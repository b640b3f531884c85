/**
 * npm run keys:generate [-- --kid NAME] [--dir DIR]
 * Writes a new RS256 private key into KEYS_DIR (default ./keys) for private_key_jwt. The
 * broker publishes every key's public half at /.well-known/jwks.json and signs with
 * SIGNING_KEY_ID, else the first key by name.
 */
import { parseArgs } from 'node:util';
import { generateBrokerKey, loadBrokerKeys } from '../src/config/broker-keys.js';

const { values } = parseArgs({
  options: { kid: { type: 'string' }, dir: { type: 'string' } },
});
const dir = values.dir ?? process.env.KEYS_DIR ?? './keys';
const kid = await generateBrokerKey(dir, values.kid);
const keys = await loadBrokerKeys(dir);
process.stdout.write(`wrote ${dir}/${kid}.pem (kid "${kid}"); ${keys.keys.size} key(s) in ${dir}\n`);
