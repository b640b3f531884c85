/**
 * npm run secrets:reencrypt — after prepending a new key to SECRET_KEY, re-seal every IdP
 * client secret with it; then the old key can be removed from the list. Needs DATABASE_URL
 * and SECRET_KEY (the full list: new key first, old keys after).
 */
import { loadConfig } from '../src/config/config.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { openDatabase } from '../src/db/database.js';
import { ConnectionRepo } from '../src/domain/connections/connection.repo.js';
import { reencryptClientSecrets } from '../src/domain/connections/reencrypt-secrets.js';

const config = loadConfig(process.env);
if (!config.databaseUrl || !config.secretKeys) {
  process.stderr.write('DATABASE_URL and SECRET_KEY are required\n');
  process.exit(1);
}
const database = openDatabase(config.databaseUrl, { max: 1 });
try {
  const { resealed, unreadable } = await reencryptClientSecrets(
    new ConnectionRepo(database.prisma),
    new SecretBox(config.secretKeys),
  );
  process.stdout.write(`re-sealed ${resealed} client secret(s) with the first SECRET_KEY\n`);
  if (unreadable.length > 0) {
    process.stderr.write(`no key in SECRET_KEY opens the secret of connection(s): ${unreadable.join(', ')}\n`);
    process.exitCode = 2;
  }
} finally {
  await database.close();
}
