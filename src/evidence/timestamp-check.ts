import { createHash, type X509Certificate } from 'node:crypto';
import { safeText } from '../util/sanitize.js';
import { chainsTo, parseTimestampReply, tokenSigner } from './tsp.js';

/** What `cirt verify` found in SHA256SUMS.tsr. */
export interface TimestampCheck {
  /** True when the token is for this SHA256SUMS and its signature verifies with its certificate. */
  valid: boolean;
  genTime: string | null;
  /** The TSA certificate's subject and sha256, as found in the token. */
  tsa: { subject: string; sha256: string } | null;
  /** `trusted`: the certificate chains to a --tsa-ca certificate; `unchecked`: none was given. */
  trust: 'trusted' | 'untrusted' | 'unchecked';
  problems: string[];
}

/** Checks a stored RFC 3161 reply against the SHA256SUMS it should stamp (and the TSA CAs, when given). */
export function checkTimestamp(
  tsr: Buffer,
  sums: Buffer | undefined,
  cas: X509Certificate[] = [],
): TimestampCheck {
  const out: TimestampCheck = {
    valid: false,
    genTime: null,
    tsa: null,
    trust: 'unchecked',
    problems: [],
  };
  let reply;
  try {
    reply = parseTimestampReply(tsr);
  } catch (err) {
    out.problems.push(`is not an RFC 3161 reply (${safeText((err as Error).message)})`);
    return out;
  }
  if (reply.status > 1 || !reply.tst) {
    out.problems.push(`is a refusal (status ${reply.status}), not a timestamp`);
    return out;
  }
  out.genTime = reply.tst.genTime;
  if (!sums) return out;
  const digest = createHash('sha256').update(sums).digest();
  if (reply.tst.hashAlgorithm !== 'sha256' || !reply.tst.imprint.equals(digest))
    out.problems.push('stamps another file: its digest is not the sha256 of SHA256SUMS');
  const signer = tokenSigner(reply);
  if (!signer) out.problems.push('its signature does not verify with a certificate it carries');
  else
    out.tsa = {
      subject: safeText(signer.subject.replace(/\n/g, ', ')),
      sha256: signer.fingerprint256.replace(/:/g, '').toLowerCase(),
    };
  out.valid = out.problems.length === 0;
  if (signer && cas.length) {
    const c = chainsTo(signer, cas, reply.signed?.certs ?? [], new Date(reply.tst.genTime));
    out.trust = c.ok ? 'trusted' : 'untrusted';
    if (!c.ok)
      out.problems.push(`is not from a trusted time-stamping authority: ${safeText(c.why ?? '')}`);
  }
  return out;
}
