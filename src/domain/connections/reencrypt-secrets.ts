import { SEALED } from '../../crypto/purposes.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { ConnectionRepo } from './connection.repo.js';

/**
 * SECRET_KEY rotation, step two: after a new key is prepended to the list, re-seal every IdP
 * client secret still sealed with an older key, so the old key can later be dropped.
 * Returns how many were re-sealed and the ids that no key in the list opens.
 */
export async function reencryptClientSecrets(
  connections: Pick<ConnectionRepo, 'listSealedSecrets' | 'replaceSealedSecret'>,
  box: SecretBox,
): Promise<{ resealed: number; unreadable: string[] }> {
  let resealed = 0;
  const unreadable: string[] = [];
  for (const { id, sealed } of await connections.listSealedSecrets()) {
    if (!box.isStale(sealed)) continue;
    const secret = box.open(sealed, SEALED.connectionClientSecret(id));
    if (secret === undefined) {
      // A connection and its versions may hold several secrets; it is named once.
      if (!unreadable.includes(id)) unreadable.push(id);
      continue;
    }
    if (await connections.replaceSealedSecret(id, sealed, box.seal(secret, SEALED.connectionClientSecret(id)))) {
      resealed += 1;
    }
  }
  return { resealed, unreadable };
}
