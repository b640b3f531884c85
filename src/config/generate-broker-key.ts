import 'reflect-metadata';
import { createPublicKey, generateKeyPair, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';

/**
 * `npm run keys:generate`: a new RSA-2048 key for private_key_jwt and, beside it, a
 * self-signed X.509 certificate of that key. IdPs that identify client keys by certificate
 * thumbprint (Entra ID) take the certificate; the broker then puts `x5t#S256` and `x5t` in
 * its assertion header. Node cannot issue certificates; @peculiar/x509 does, over WebCrypto.
 */
// Node's WebCrypto is the standard one; the casts bridge @types/node and the DOM typings.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type GeneratorKeys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
export const DEFAULT_CERTIFICATE_DAYS = 730;

export interface GeneratedKey {
  kid: string;
  keyPath: string;
  certificatePath?: string;
}

/** A self-signed certificate (PEM) for an RSA key: CN = `commonName`, `days` of validity. */
export async function selfSignedCertificate(
  privateKey: KeyObject,
  options: { commonName: string; days: number },
): Promise<string> {
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      RS256,
      false,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      RS256,
      true,
      ['verify'],
    ),
  };
  const notBefore = new Date(Date.now() - 60_000);
  const serial = randomBytes(16);
  serial.writeUInt8(serial.readUInt8(0) & 0x7f, 0); // a positive INTEGER (RFC 5280 §4.1.2.2)
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [options.commonName] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.days * 86_400_000),
    signingAlgorithm: RS256,
    keys: keys as unknown as GeneratorKeys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create((keys as unknown as GeneratorKeys).publicKey),
    ],
  });
  return certificate.toString('pem') + '\n';
}

/** Generates an RSA-2048 key and writes it as {@link writeBrokerKey} does. */
export async function generateBrokerKey(
  dir: string,
  options: { kid?: string; certificateDays?: number; commonName?: string } = {},
): Promise<GeneratedKey> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return writeBrokerKey(dir, privateKey, options);
}

/**
 * Writes `privateKey` as `<kid>.pem` (PKCS #8, mode 0600) and, unless `certificateDays` is 0,
 * `<kid>.crt`. Never overwrites: an existing kid is an error (EEXIST).
 */
export async function writeBrokerKey(
  dir: string,
  privateKey: KeyObject,
  options: { kid?: string; certificateDays?: number; commonName?: string } = {},
): Promise<GeneratedKey> {
  const kid =
    options.kid ??
    `broker-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, `${kid}.pem`);
  await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  const days = options.certificateDays ?? DEFAULT_CERTIFICATE_DAYS;
  if (days === 0) return { kid, keyPath };
  const certificatePath = join(dir, `${kid}.crt`);
  const pem = await selfSignedCertificate(privateKey, { commonName: options.commonName ?? `SSO broker ${kid}`, days });
  await writeFile(certificatePath, pem, { mode: 0o644, flag: 'wx' });
  return { kid, keyPath, certificatePath };
}
