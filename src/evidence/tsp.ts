import { createHash, verify as verifySig, X509Certificate } from 'node:crypto';
import {
  children,
  expectTag,
  generalizedTime,
  oid,
  readTlv,
  tlv,
  uint,
  value,
  whole,
} from './der.js';

/**
 * RFC 3161 (Time-Stamp Protocol): the request cirt sends and what it reads back from a reply. The
 * reply is stored as it came (SHA256SUMS.tsr), so `openssl ts -verify -in SHA256SUMS.tsr -data
 * SHA256SUMS -CAfile tsa-ca.pem` checks it without cirt.
 */

const SHA256_OID = Buffer.from('0609608648016503040201', 'hex');
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SIGNED_DATA = '1.2.840.113549.1.7.2';
const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const CONTENT_TYPE = '1.2.840.113549.1.9.3';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** TimeStampReq for a sha256 digest, asking for the TSA's certificate in the token. */
export function timestampRequest(sha256: Buffer, nonce: Buffer): Buffer {
  const algorithm = tlv(0x30, SHA256_OID, Buffer.from([0x05, 0x00]));
  const imprint = tlv(0x30, algorithm, tlv(0x04, sha256));
  return tlv(0x30, uint(Buffer.from([1])), imprint, uint(nonce), Buffer.from([0x01, 0x01, 0xff]));
}

export interface TstInfo {
  policy: string;
  hashAlgorithm: string;
  imprint: Buffer;
  serial: string;
  genTime: string;
  nonce?: string;
}

export interface TimestampReply {
  /** PKIStatus: 0 granted, 1 granted with modifications, 2+ refused. */
  status: number;
  statusText: string;
  tst?: TstInfo;
  /** The SignedData parts needed to check the TSA's signature. */
  signed?: {
    eContent: Buffer;
    certs: X509Certificate[];
    signers: { digest: string; attrs?: Buffer; sigAlg: string; signature: Buffer }[];
  };
}

const hex = (b: Buffer): string => b.toString('hex');

/** Parses a TimeStampResp; throws (an Error naming what is malformed) when it is not one. */
export function parseTimestampReply(der: Buffer): TimestampReply {
  const top = children(der, expectTag(readTlv(der, 0), 0x30, 'TimeStampResp'));
  const statusInfo = children(der, expectTag(top[0], 0x30, 'PKIStatusInfo'));
  const status = value(der, expectTag(statusInfo[0], 0x02, 'status')).readUIntBE(0, 1);
  const texts =
    statusInfo[1]?.tag === 0x30
      ? children(der, statusInfo[1]).map((t) => value(der, t).toString('utf8'))
      : [];
  const out: TimestampReply = { status, statusText: texts.join('; ') };
  if (!top[1]) return out;
  // ContentInfo { signedData, [0] SignedData }
  const ci = children(der, expectTag(top[1], 0x30, 'ContentInfo'));
  if (oid(der, ci[0]) !== SIGNED_DATA) throw new Error('the token is not CMS SignedData');
  const sd = children(
    der,
    expectTag(children(der, expectTag(ci[1], 0xa0, '[0]'))[0], 0x30, 'SignedData'),
  );
  const encap = children(der, expectTag(sd[2], 0x30, 'EncapsulatedContentInfo'));
  if (oid(der, encap[0]) !== TST_INFO) throw new Error('the token does not hold a TSTInfo');
  const octets = expectTag(children(der, expectTag(encap[1], 0xa0, '[0]'))[0], 0x04, 'eContent');
  const eContent = Buffer.from(value(der, octets));
  const certs: X509Certificate[] = [];
  let i = 3;
  if (sd[i]?.tag === 0xa0) {
    for (const c of children(der, sd[i]))
      if (c.tag === 0x30) certs.push(new X509Certificate(whole(der, c)));
    i++;
  }
  if (sd[i]?.tag === 0xa1) i++;
  const signers = children(der, expectTag(sd[i], 0x31, 'SignerInfos')).map((si) => {
    const f = children(der, si);
    let j = 2;
    const digest = oid(der, children(der, expectTag(f[j++], 0x30, 'digestAlgorithm'))[0]);
    let attrs: Buffer | undefined;
    if (f[j]?.tag === 0xa0) {
      // Signed attributes are signed as a SET (tag 0x31), not as the [0] they are stored under.
      attrs = Buffer.from(whole(der, f[j++]));
      attrs[0] = 0x31;
    }
    const sigAlg = oid(der, children(der, expectTag(f[j++], 0x30, 'signatureAlgorithm'))[0]);
    const signature = Buffer.from(value(der, expectTag(f[j], 0x04, 'signature')));
    return { digest, attrs, sigAlg, signature };
  });
  out.signed = { eContent, certs, signers };
  out.tst = parseTstInfo(eContent);
  return out;
}

function parseTstInfo(b: Buffer): TstInfo {
  const f = children(b, expectTag(readTlv(b, 0), 0x30, 'TSTInfo'));
  const mi = children(b, expectTag(f[2], 0x30, 'MessageImprint'));
  const tst: TstInfo = {
    policy: oid(b, f[1]),
    hashAlgorithm: HASHES[oid(b, children(b, mi[0])[0])] ?? 'unknown',
    imprint: Buffer.from(value(b, expectTag(mi[1], 0x04, 'hashedMessage'))),
    serial: hex(value(b, expectTag(f[3], 0x02, 'serialNumber'))),
    genTime: generalizedTime(b, f[4]),
  };
  for (const x of f.slice(5)) if (x.tag === 0x02) tst.nonce = hex(value(b, x));
  return tst;
}

/** The attribute values of a signed-attributes SET, by OID. */
function attributes(attrs: Buffer): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const a of children(attrs, readTlv(attrs, 0))) {
    const [type, values] = children(attrs, a);
    const first = children(attrs, values)[0];
    if (first) m.set(oid(attrs, type), Buffer.from(value(attrs, first)));
  }
  return m;
}

/**
 * Which certificate of the token made a valid signature over its TSTInfo (null: none did). The
 * signed attributes must carry the TSTInfo's digest and content type, as RFC 5652 §5.4 requires.
 */
export function tokenSigner(r: TimestampReply): X509Certificate | null {
  if (!r.signed) return null;
  for (const s of r.signed.signers) {
    const hash = HASHES[s.digest];
    if (!hash) continue;
    let data = r.signed.eContent;
    if (s.attrs) {
      const a = attributes(s.attrs);
      const md = a.get(MESSAGE_DIGEST);
      if (!md || !md.equals(createHash(hash).update(r.signed.eContent).digest())) continue;
      if (!a.has(CONTENT_TYPE)) continue;
      data = s.attrs;
    }
    for (const cert of r.signed.certs) {
      try {
        if (verifySig(hash, data, cert.publicKey, s.signature)) return cert;
      } catch {
        // Not this certificate's key type or signature scheme: try the next.
      }
    }
  }
  return null;
}

/** True when `cert` is a time-stamping certificate that chains to one of `cas` (via the token's certs). */
export function chainsTo(
  cert: X509Certificate,
  cas: X509Certificate[],
  pool: X509Certificate[],
  at: Date,
): { ok: boolean; why?: string } {
  if (!(cert.keyUsage ?? []).includes(TIME_STAMPING))
    return {
      ok: false,
      why: 'the signing certificate is not for time stamping (no extendedKeyUsage timeStamping)',
    };
  let cur = cert;
  for (let depth = 0; depth < 5; depth++) {
    if (at < new Date(cur.validFrom) || at > new Date(cur.validTo))
      return { ok: false, why: `certificate "${cur.subject}" was not valid at the stamped time` };
    if (cas.some((ca) => ca.fingerprint256 === cur.fingerprint256)) return { ok: true };
    const issuer = [...cas, ...pool].find(
      (c) =>
        c.fingerprint256 !== cur.fingerprint256 && cur.checkIssued(c) && cur.verify(c.publicKey),
    );
    if (!issuer) return { ok: false, why: `no trusted CA issued "${cur.subject}"` };
    if (cas.some((ca) => ca.fingerprint256 === issuer.fingerprint256)) return { ok: true };
    cur = issuer;
  }
  return { ok: false, why: 'the certificate chain is too long' };
}
