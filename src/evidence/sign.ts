import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';

/**
 * Ed25519 signing of SHA256SUMS. The signature is raw (64 bytes), as
 * `openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig` expects.
 */

const MAX_KEY_FILE = 64 * 1024;
const HOW_TO_MAKE =
  'Make one with `openssl genpkey -algorithm ed25519 -out case-signing.pem`, or leave --sign-key out to sign with a key made for the case.';

function readKeyFile(file: string, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new UserError(`Cannot read the ${what} ${safeText(file)}: ${(err as Error).message}`, {
      hint: 'Check the path.',
    });
  }
  if (!st.isFile() || st.size > MAX_KEY_FILE)
    throw new UserError(`${safeText(file)} is not a PEM key file`, { hint: HOW_TO_MAKE });
  return fs.readFileSync(file);
}

function requireEd25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UserError(
      `${safeText(file)} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not an Ed25519 key`,
      { hint: HOW_TO_MAKE },
    );
  }
  return key;
}

/** The `--sign-key` private key, checked to be Ed25519; errors name the file and say what to do. */
export function loadSigningKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readKeyFile(file, 'signing key'));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${safeText(file)} is not a usable PEM private key: ${(err as Error).message}`,
      { hint: `An unencrypted PKCS#8 PEM is needed. ${HOW_TO_MAKE}` },
    );
  }
  return requireEd25519(key, file);
}

/** A key made for one case; its private half lives only in memory and is dropped after signing. */
export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/** `--pubkey`: a public PEM (a private one is accepted too and reduced to its public half). */
export function loadPublicKeyFile(file: string): KeyObject {
  const pem = readKeyFile(file, 'public key');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new UserError(`${safeText(file)} is not a PEM public key: ${(err as Error).message}`, {
      hint: 'Pass the pub.pem the case was signed with, or the signer’s public key.',
    });
  }
  return requireEd25519(key, file);
}

export function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

/** SPKI PEM text of a key's public half (pub.pem). */
export function publicPem(key: KeyObject): string {
  return publicKeyOf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** sha256 of the public key's SPKI DER: the fingerprint to compare out of band. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(publicKeyOf(key).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function signData(data: Buffer, key: KeyObject): Buffer {
  return sign(null, data, key);
}

/** True when `signature` is `key`'s Ed25519 signature of `data`. */
export function verifyData(data: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}
