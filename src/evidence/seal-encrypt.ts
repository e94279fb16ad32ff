import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FailureError } from '../errors.js';
import { clip, safeText } from '../util/sanitize.js';
import { bundleSumLine, type Bundle } from './archive.js';
import type { CaseStore } from './case-store.js';
import { HashingFileWriter } from './hashing-writer.js';
import { writeNewFile } from './paths.js';

export interface EncryptedBundle {
  path: string;
  sha256: string;
  bytes: number;
  /** sha256 of each recipient certificate's DER. */
  recipients: string[];
}

/** sha256 of a certificate's DER, lower-case hex (what `openssl x509 -noout -fingerprint -sha256` shows, without colons). */
export function certFingerprint(file: string): string {
  return new X509Certificate(fs.readFileSync(file)).fingerprint256.replace(/:/g, '').toLowerCase();
}

/**
 * Encrypts the bundle to `--encrypt-to`'s X.509 certificates as CMS EnvelopedData (AES-256), so
 * `openssl cms -decrypt -inform DER -binary -in CASE.tar.gz.p7m -recip cert.pem -inkey key.pem`
 * opens it. The bytes stream through openssl (`-stream`, never all in memory) and are hashed on
 * their way to disk; `CASE.tar.gz.p7m.sha256` goes beside it. Credentials in the evidence reach
 * only whoever holds a recipient's key.
 */
export async function encryptBundle(bundle: Bundle, certs: string[]): Promise<EncryptedBundle> {
  const dest = `${bundle.path}.p7m`;
  const sumFile = `${dest}.sha256`;
  const tmp = `${dest}.partial-${process.pid}`;
  const recipients = certs.map(certFingerprint);
  const child = spawn(
    'openssl',
    ['cms', '-encrypt', '-binary', '-stream', '-aes256', '-outform', 'DER', ...certs],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  const out = new HashingFileWriter(tmp);
  let linked = false;
  try {
    const [, written, code] = await Promise.all([
      pipeline(fs.createReadStream(bundle.path), child.stdin),
      out.from(child.stdout),
      exited,
    ]);
    if (code !== 0)
      throw new Error(`openssl cms exited ${code}: ${clip(safeText(stderr.trim()), 300)}`);
    if (!written.complete)
      throw written.error ?? new Error('the encrypted bundle was not written whole');
    fs.linkSync(tmp, dest);
    linked = true;
    fs.unlinkSync(tmp);
    writeNewFile(sumFile, bundleSumLine(written.sha256, dest));
    return { path: dest, sha256: written.sha256, bytes: written.bytes, recipients };
  } catch (err) {
    child.kill();
    fs.rmSync(tmp, { force: true });
    if (linked) {
      fs.rmSync(dest, { force: true });
      fs.rmSync(sumFile, { force: true });
    }
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new FailureError(
      `encrypting ${bundle.path} to ${certs.length} recipient(s) failed: ${missing ? 'the openssl command was not found' : safeText((err as Error).message)}`,
      {
        hint: missing
          ? 'Install openssl (apt-get install openssl); the sealed bundle is intact beside it.'
          : `The sealed bundle is intact; encrypt it by hand: openssl cms -encrypt -binary -stream -aes256 -outform DER -in ${path.basename(bundle.path)} -out ${path.basename(dest)} ${certs.map((c) => path.basename(c)).join(' ')}`,
        cause: err,
      },
    );
  }
}

/** After archiving: the encrypted copy, when the case is to be encrypted (`store.encryptTo`). */
export async function encryptSealedBundle(
  store: CaseStore,
  bundle: Bundle,
  o: { onProgress?: (p: { message?: string }) => void } = {},
): Promise<EncryptedBundle | undefined> {
  if (!store.encryptTo?.length) return undefined;
  o.onProgress?.({
    message: `encrypting the bundle to ${store.encryptTo.length} recipient(s) (CMS)`,
  });
  return encryptBundle(bundle, store.encryptTo);
}
