import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { loadPublicKeyFile } from '../evidence/sign.js';
import { loadTrustedKeys } from '../evidence/trusted-keys.js';
import { readBundle, readFolder } from '../evidence/verify-read.js';
import { checkCase, type VerifyReport } from '../evidence/verify.js';
import { safeText } from '../util/sanitize.js';

/** The sha256 file written beside a bundle, when there is one (null: absent). */
function readBundleSum(file: string): string | null {
  const sumFile = `${file}.sha256`;
  try {
    const st = fs.lstatSync(sumFile);
    if (!st.isFile() || st.size > 4096) return '';
    return fs.readFileSync(sumFile, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Verifies a sealed bundle or a case folder: offline, no runtime, no network. An unreadable input
 * (missing, not gzip, not a case) is a UserError; a tampered one is a report that is not ok.
 */
export async function verifyInput(o: {
  input: string;
  pubkey?: string;
  /** A file of the signers' public keys (`cirt keys export` output, appended). */
  trustedKeys?: string;
  /** CA certificates (PEM) the RFC 3161 timestamp must chain to. */
  tsaCa?: string;
  cwd: string;
}): Promise<{ report: VerifyReport; seconds: number }> {
  const input = path.resolve(o.cwd, o.input);
  const expectedKey = o.pubkey ? loadPublicKeyFile(path.resolve(o.cwd, o.pubkey)) : undefined;
  const trustedKeys = o.trustedKeys
    ? loadTrustedKeys(path.resolve(o.cwd, o.trustedKeys))
    : undefined;
  const tsaCas = o.tsaCa ? loadCertificates(path.resolve(o.cwd, o.tsaCa)) : undefined;
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch (err) {
    throw new UserError(
      `Cannot read ${safeText(o.input)}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`,
      {
        hint: 'Pass a <case-id>.tar.gz bundle or a case folder.',
      },
    );
  }
  const started = Date.now();
  const obs = st.isDirectory() ? await readFolder(input) : await readBundle(input);
  // A bundle that breaks off midway was changed (exit 1); one read to its end without a case in it is not a case (exit 2).
  const broken = obs.odd.some((x) => x.why.startsWith('is corrupt'));
  if (!broken && !['case.json', 'SHA256SUMS', 'manifest.json'].some((f) => obs.files.has(f))) {
    throw new UserError(
      `${safeText(o.input)} is not a cirt case: it has no case.json, manifest.json or SHA256SUMS${obs.odd.length ? ` (${safeText(obs.odd[0].name)} ${safeText(obs.odd[0].why)})` : ''}`,
      {
        hint: 'Pass a <case-id>.tar.gz made by cirt, or the case folder inside it.',
      },
    );
  }
  const report = checkCase(obs, {
    expectedKey,
    trustedKeys,
    tsaCas,
    bundleSumText: obs.bundle ? readBundleSum(input) : undefined,
    bundleName: path.basename(input),
  });
  return { report, seconds: (Date.now() - started) / 1000 };
}

/** Every PEM certificate in a file (`--tsa-ca`). */
function loadCertificates(file: string): X509Certificate[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`Cannot read ${safeText(file)}: ${(err as Error).message}`, {
      hint: 'Pass the time-stamping authority’s CA certificate (PEM).',
    });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  try {
    if (!blocks.length) throw new Error('no PEM certificate in it');
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    throw new UserError(
      `${safeText(file)} is not a PEM certificate file: ${(err as Error).message}`,
      {
        hint: 'Pass the time-stamping authority’s CA certificate (PEM).',
      },
    );
  }
}
