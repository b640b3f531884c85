import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';

/**
 * The broker's RS256 keys for `private_key_jwt` (RFC 7523): one private key per file in
 * KEYS_DIR (PEM or JWK), `kid` = file name stem; an optional `<kid>.crt` beside a key adds
 * the `x5t` / `x5t#S256` thumbprints some IdPs (Entra ID) identify keys by.
 */
export interface BrokerKey {
  kid: string;
  /** SPKI PEM of the public key, for IdPs that take a key rather than a JWKS URL. */
  publicKeyPem: string;
  /** Signs private_key_jwt assertions (oidc/client-auth.ts). */
  privateKey: KeyObject;
  publicJwk: PublicJwk;
  x5t?: string;
  x5tS256?: string;
  certificatePem?: string;
  /** When the certificate expires (ISO 8601); IdPs that pinned it stop accepting the key then. */
  certificateNotAfter?: string;
}

export interface PublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
  x5c?: string[];
  x5t?: string;
  'x5t#S256'?: string;
}

export interface BrokerKeys {
  keys: ReadonlyMap<string, BrokerKey>;
  /** The kid that signs unless a connection pins another; undefined when there are no keys. */
  activeKid: string | undefined;
  jwks(): { keys: PublicJwk[] };
}

const KEY_EXTENSIONS = new Set(['.pem', '.key', '.json', '.jwk']);
const MIN_RSA_BITS = 2048;

export class KeysError extends Error {
  override name = 'KeysError';
}

async function parsePrivateKey(path: string): Promise<KeyObject> {
  const text = await readFile(path, 'utf8');
  const ext = extname(path);
  const key =
    ext === '.json' || ext === '.jwk'
      ? createPrivateKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' })
      : createPrivateKey(text);
  if (key.asymmetricKeyType !== 'rsa') throw new KeysError(`${path}: not an RSA private key (RS256 needs RSA)`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new KeysError(`${path}: RSA key of ${bits} bits; at least ${MIN_RSA_BITS} required`);
  return key;
}

async function readCertificate(path: string, publicKey: KeyObject) {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new KeysError(`${path}: not an X.509 certificate in PEM`);
  }
  if (!cert.publicKey.equals(publicKey)) throw new KeysError(`${path}: certificate does not match its key`);
  return {
    certificatePem: pem,
    x5c: [cert.raw.toString('base64')],
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

export async function loadBrokerKeys(dir: string, preferredKid?: string): Promise<BrokerKeys> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') names = [];
    else throw error;
  }
  const keys = new Map<string, BrokerKey>();
  for (const name of names) {
    const ext = extname(name);
    if (!KEY_EXTENSIONS.has(ext)) continue;
    const kid = name.slice(0, -ext.length);
    if (keys.has(kid)) throw new KeysError(`${dir}: two key files for kid "${kid}"`);
    const privateKey = await parsePrivateKey(join(dir, name));
    const publicKey = createPublicKey(privateKey);
    const { n, e } = publicKey.export({ format: 'jwk' });
    if (n === undefined || e === undefined) throw new KeysError(`${dir}/${name}: not an RSA key`);
    const cert = await readCertificate(join(dir, `${kid}.crt`), publicKey);
    const publicJwk: PublicJwk = { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' };
    if (cert) Object.assign(publicJwk, { x5c: cert.x5c, x5t: cert.x5t, 'x5t#S256': cert.x5tS256 });
    keys.set(kid, {
      kid,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicJwk,
      privateKey,
      ...(cert && {
        x5t: cert.x5t,
        x5tS256: cert.x5tS256,
        certificatePem: cert.certificatePem,
        certificateNotAfter: cert.notAfter,
      }),
    });
  }
  if (preferredKid !== undefined && !keys.has(preferredKid)) {
    throw new KeysError(`SIGNING_KEY_ID "${preferredKid}" is not a key in ${dir}`);
  }
  const activeKid = preferredKid ?? keys.keys().next().value;
  const jwks = { keys: [...keys.values()].map((key) => key.publicJwk) };
  return { keys, activeKid, jwks: () => jwks };
}
