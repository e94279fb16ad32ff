import { createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { clip, safeText } from '../util/sanitize.js';
import { keyFingerprint } from './sign.js';

/** A signer the auditor knows: a name and the key. */
export interface TrustedKey {
  name: string;
  fingerprint: string;
  key: KeyObject;
}

const MAX_FILE = 1 << 20;
const BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * `--trusted-keys FILE`: one or more PEM public keys, each optionally after a `# name` line
 * (`cirt keys export` writes `# cirt key NAME sha256 …`, so exports can simply be appended).
 */
export function parseTrustedKeys(text: string, file: string): TrustedKey[] {
  const out: TrustedKey[] = [];
  let last = 0;
  for (const m of text.matchAll(BLOCK)) {
    const before = text.slice(last, m.index).split('\n');
    last = m.index + m[0].length;
    const comment = before
      .map((l) => l.trim())
      .filter((l) => l.startsWith('#'))
      .pop();
    const label = comment?.replace(/^#\s*/, '');
    const named = label && /^cirt key (\S+)/.exec(label);
    let key: KeyObject;
    try {
      key = createPublicKey(m[0]);
    } catch (err) {
      throw new UserError(
        `${safeText(file)}: key ${out.length + 1} is not a PEM public key (${(err as Error).message})`,
        {
          hint: 'Each key is a PEM block as `cirt keys export` or `openssl pkey -pubout` prints it.',
        },
      );
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new UserError(
        `${safeText(file)}: key ${out.length + 1} is a ${key.asymmetricKeyType} key, not Ed25519`,
        { hint: 'cirt signs with Ed25519 keys only.' },
      );
    const name = clip(
      safeText(named ? named[1] : label || `key ${out.length + 1} of ${path.basename(file)}`),
      80,
    );
    out.push({ name, fingerprint: keyFingerprint(key), key });
  }
  if (!out.length)
    throw new UserError(`${safeText(file)} holds no PEM public key`, {
      hint: 'Collect the signers’ keys with `cirt keys export >> trusted.pem` on each responder’s machine.',
    });
  return out;
}

export function loadTrustedKeys(file: string): TrustedKey[] {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_FILE) throw new Error('not a key file of at most 1 MiB');
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `Cannot read the trusted keys ${safeText(file)}: ${(err as Error).message}`,
      {
        hint: 'Check the path.',
      },
    );
  }
  return parseTrustedKeys(text, file);
}
