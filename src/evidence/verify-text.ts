import { safeText } from '../util/sanitize.js';
import type { VerifyReport } from './verify.js';

/**
 * The signature's verdict in words, the same for `cirt verify` and the TUI: `ok` is false (✖) when
 * the signature does not hold or the key is not one the auditor trusts. Full fingerprints, never
 * shortened: a prefix is what a forger would match.
 */
export function signatureVerdict(r: VerifyReport): { ok: boolean; lines: string[] } {
  const s = r.signature;
  const fp = s.publicKeySha256 ? `pub.pem sha256 ${s.publicKeySha256}` : 'no usable pub.pem';
  if (!s.valid)
    return { ok: false, lines: [`Ed25519 signature over SHA256SUMS: NOT valid (${fp})`] };
  if (s.signer.status === 'trusted')
    return {
      ok: true,
      lines: [
        `Ed25519 signature over SHA256SUMS: valid, signed by the trusted key "${safeText(s.signer.name)}" (sha256 ${s.signer.fingerprint})`,
      ],
    };
  if (s.signer.status === 'untrusted')
    return {
      ok: false,
      lines: [
        `Ed25519 signature over SHA256SUMS: made by a key that is NOT trusted (${fp})`,
        ...s.signer.known.map((k) => `    trusted: "${safeText(k.name)}" sha256 ${k.fingerprint}`),
      ],
    };
  return {
    ok: true,
    lines: [
      `Ed25519 signature over SHA256SUMS: valid (${fp})`,
      '    no trusted key given: this shows only that the files agree with the pub.pem inside the bundle, not who signed it (anyone who edits a bundle can sign it again); pass --trusted-keys FILE or --pubkey PEM',
    ],
  };
}

/** The timestamp's verdict: a trusted time, or plainly the host's clock. */
export function timestampVerdict(r: VerifyReport): { ok: boolean; line: string } {
  const t = r.timestamp;
  if (!t)
    return {
      ok: !r.problems.some((p) => p.file === 'SHA256SUMS.tsr'),
      line: 'no RFC 3161 timestamp (SHA256SUMS.tsr): every time in the case is the host’s clock',
    };
  if (!t.valid)
    return {
      ok: false,
      line: `RFC 3161 timestamp SHA256SUMS.tsr does NOT hold${t.genTime ? ` (says ${t.genTime})` : ''}`,
    };
  const who = t.tsa
    ? `"${t.tsa.subject}" (certificate sha256 ${t.tsa.sha256})`
    : 'an unknown authority';
  return {
    ok: true,
    line:
      t.trust === 'trusted'
        ? `RFC 3161 timestamp: SHA256SUMS existed at ${t.genTime}, stamped by ${who}, a trusted authority`
        : `RFC 3161 timestamp: SHA256SUMS existed at ${t.genTime}, stamped by ${who}; pass --tsa-ca to check that authority`,
  };
}
