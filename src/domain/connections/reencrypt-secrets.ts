import type { SecretBox } from '../../crypto/secret-box.js';
import type { Db } from '../../db/database.js';
import { SEALED } from '../../crypto/purposes.js';

/**
 * SECRET_KEY rotation, step two: after a new key is prepended to the list, re-seal every IdP
 * client secret still sealed with an older key, so the old key can later be dropped.
 * Returns how many were re-sealed and the ids that no key in the list opens.
 */
export async function reencryptClientSecrets(
  db: Db,
  box: SecretBox,
): Promise<{ resealed: number; unreadable: string[] }> {
  const rows = await db.connection.findMany({
    where: { clientSecretEnc: { not: null } },
    select: { id: true, clientSecretEnc: true },
  });
  let resealed = 0;
  const unreadable: string[] = [];
  for (const row of rows) {
    if (!box.isStale(row.clientSecretEnc!)) continue;
    const secret = box.open(row.clientSecretEnc!, SEALED.connectionClientSecret(row.id));
    if (secret === undefined) {
      unreadable.push(row.id);
      continue;
    }
    // Only if unchanged since read: a concurrent admin update wins.
    const updated = await db.connection.updateMany({
      where: { id: row.id, clientSecretEnc: row.clientSecretEnc },
      data: { clientSecretEnc: box.seal(secret, SEALED.connectionClientSecret(row.id)) },
    });
    resealed += updated.count;
  }
  return { resealed, unreadable };
}
