import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkChain, type CustodyRecord } from './custody.js';
import { POST_SEAL_FILE } from './post-seal-custody.js';
import { BOOKKEEPING, parseSums, UNSUMMED } from './sha256sums.js';
import { keyFingerprint, verifyData } from './sign.js';
import type { TrustedKey } from './trusted-keys.js';
import { checkTimestamp, type TimestampCheck } from './timestamp-check.js';
import type { X509Certificate } from 'node:crypto';
import type { Observed } from './verify-read.js';
import type { CaseInfo } from './types.js';
import { clip, safeText } from '../util/sanitize.js';

const BOOKKEEPING_FILES = new Set<string>(BOOKKEEPING);
const TSR_NAME = 'SHA256SUMS.tsr';

/** One thing that does not hold, naming the file (and line) it is about. */
export interface Problem {
  file: string;
  line?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  kind: Observed['kind'];
  caseId: string | null;
  checked: {
    files: number;
    bytes: number;
    sumsLines: number;
    manifestEntries: number;
    custodyRecords: number;
    postSealRecords: number;
  };
  signature: {
    valid: boolean;
    publicKeySha256: string | null;
    /** The fingerprint of the one key given with --pubkey (null otherwise). */
    expectedKey: string | null;
    /**
     * Who signed, as far as the auditor's keys tell: `trusted` names the known signer; `untrusted`:
     * keys were given and pub.pem is none of them; `unchecked`: no key was given, so the signature
     * shows only that SHA256SUMS and pub.pem agree, not who made them.
     */
    signer:
      | { status: 'trusted'; name: string; fingerprint: string }
      | { status: 'untrusted'; known: { name: string; fingerprint: string }[] }
      | { status: 'unchecked' };
  };
  /** SHA256SUMS.tsr checked (null: the case has no trusted timestamp; its times are the host's). */
  timestamp: TimestampCheck | null;

  bundleSum: { expected: string | null; actual: string } | null;
  problems: Problem[];
}

function parseJson<T>(obs: Observed, name: string, problems: Problem[]): T | null {
  const b = obs.texts.get(name);
  if (!b) return null;
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch (err) {
    problems.push({
      file: name,
      message: `is not valid JSON (${clip(safeText((err as Error).message), 160)})`,
    });
    return null;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isListed = (a: unknown): a is { path: string; sha256: string; bytes: number } =>
  isObj(a) &&
  typeof a.path === 'string' &&
  typeof a.sha256 === 'string' &&
  typeof a.bytes === 'number';

/** The entries of a manifest list that have the fields verify compares; each other one is a problem. */
function listedEntries(
  v: unknown,
  key: string,
  problems: Problem[],
): { path: string; sha256: string; bytes: number }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push({ file: 'manifest.json', message: `"${key}" is not a list` });
    return [];
  }
  return v.filter((a, i) => {
    if (isListed(a)) return true;
    problems.push({ file: 'manifest.json', message: `${key}[${i}] is not {path, sha256, bytes}` });
    return false;
  });
}

function short(h: string): string {
  return `${h.slice(0, 12)}…`;
}

/**
 * Checks what was read from a case folder or bundle: every file against SHA256SUMS and
 * manifest.json (hash and size), nothing missing or extra, the custody chain (and a post-seal
 * continuation), the signature, the key (`expectedKey`), the bundle's own .sha256.
 */
export function checkCase(
  obs: Observed,
  opts: {
    expectedKey?: KeyObject;
    /** --trusted-keys / --pubkey: the signers the auditor knows. */
    trustedKeys?: TrustedKey[];
    /** --tsa-ca: the CA certificates a timestamp must chain to. */
    tsaCas?: X509Certificate[];
    bundleSumText?: string | null;
    bundleName?: string;
  } = {},
): VerifyReport {
  const problems: Problem[] = obs.odd.map((o) => ({ file: o.name, message: o.why }));
  const need = (name: string): Buffer | undefined => {
    const b = obs.texts.get(name);
    if (!b && !obs.odd.some((o) => o.name === name))
      problems.push({ file: name, message: 'is missing' });
    return b;
  };
  const ordinary = (name: string): boolean => !UNSUMMED.has(name) && name !== POST_SEAL_FILE;

  // SHA256SUMS ⇄ files.
  const sumsText = need('SHA256SUMS');
  const sums = sumsText
    ? parseSums(sumsText.toString('utf8'))
    : { entries: new Map(), problems: [] };
  for (const p of sums.problems)
    problems.push({ file: 'SHA256SUMS', line: p.line, message: p.message });
  for (const [name, f] of obs.files) {
    if (!ordinary(name)) continue;
    const listed = sums.entries.get(name);
    if (!listed) {
      if (sumsText)
        problems.push({ file: name, message: 'is not listed in SHA256SUMS (added after sealing)' });
    } else if (listed.sha256 !== f.sha256)
      problems.push({
        file: name,
        message: `sha256 ${short(f.sha256)} does not match SHA256SUMS line ${listed.line} (${short(listed.sha256)}): the file was changed`,
      });
  }
  for (const [name, e] of sums.entries) {
    if (!obs.files.has(name))
      problems.push({
        file: name,
        message: `is listed in SHA256SUMS (line ${e.line}) but missing`,
      });
  }

  // manifest.json ⇄ files.
  // Shapes are checked, not assumed: a tampered bundle is reported, it does not crash the check.
  const manifestRaw = parseJson<unknown>(obs, 'manifest.json', problems);
  if (
    obs.texts.has('manifest.json') &&
    !isObj(manifestRaw) &&
    !problems.some((p) => p.file === 'manifest.json')
  )
    problems.push({ file: 'manifest.json', message: 'is not an object' });
  const manifest = isObj(manifestRaw)
    ? (manifestRaw as { caseId?: unknown; artifacts?: unknown; unlisted?: unknown })
    : null;
  if (!obs.texts.has('manifest.json')) need('manifest.json');
  if (manifest && manifest.artifacts === undefined)
    problems.push({ file: 'manifest.json', message: 'has no "artifacts" list' });
  const described = [
    ...listedEntries(manifest?.artifacts, 'artifacts', problems),
    ...listedEntries(manifest?.unlisted, 'unlisted', problems),
  ];
  const inManifest = new Set(described.map((a) => a.path));
  for (const a of described) {
    const f = obs.files.get(a.path);
    if (!f) {
      if (!sums.entries.has(a.path))
        problems.push({ file: a.path, message: 'is listed in manifest.json but missing' });
    } else if (f.sha256 !== a.sha256 || f.bytes !== a.bytes) {
      problems.push({
        file: a.path,
        message: `does not match manifest.json (file ${f.bytes} bytes ${short(f.sha256)}, manifest ${a.bytes} bytes ${short(a.sha256)})`,
      });
    }
  }
  if (manifest) {
    for (const name of obs.files.keys()) {
      if (ordinary(name) && !BOOKKEEPING_FILES.has(name) && !inManifest.has(name))
        problems.push({
          file: name,
          message: 'is not in manifest.json: no step recorded writing it',
        });
    }
  }

  // case.json.
  const infoRaw = parseJson<unknown>(obs, 'case.json', problems);
  const info =
    isObj(infoRaw) && typeof infoRaw.id === 'string' ? (infoRaw as unknown as CaseInfo) : null;
  if (obs.texts.has('case.json') && !info && !problems.some((p) => p.file === 'case.json'))
    problems.push({ file: 'case.json', message: 'is not a case record (no "id")' });
  if (!obs.texts.has('case.json')) need('case.json');
  if (info && info.status !== 'sealed')
    problems.push({
      file: 'case.json',
      message: `status is "${safeText(String(info.status))}", not "sealed"`,
    });
  if (info && manifest?.caseId && manifest.caseId !== info.id)
    problems.push({
      file: 'manifest.json',
      message: `is for case ${safeText(String(manifest.caseId))}, case.json for ${safeText(info.id)}`,
    });
  if (info && obs.kind === 'bundle' && obs.top && obs.top !== info.id)
    problems.push({
      file: obs.top,
      message: `the bundle's folder is not named after its case ${safeText(info.id)}`,
    });

  // Custody.
  const custodyText = need('custody.jsonl')?.toString('utf8') ?? '';
  const chain = checkChain(custodyText);
  for (const p of chain.problems)
    problems.push({ file: 'custody.jsonl', line: p.line, message: p.message });
  crossCheckCustody(chain.records, described, problems);
  const sealRec = [...chain.records].reverse().find((r) => r.action === 'evidence:seal');
  if (custodyText && !sealRec)
    problems.push({
      file: 'custody.jsonl',
      message: 'has no sealing record (records were cut off the end)',
    });
  let postSealRecords = 0;
  const post = obs.texts.get(POST_SEAL_FILE);
  if (post) {
    // The post-seal log continues the sealed chain: check both as one text, report its own line numbers.
    const joined = checkChain(custodyText + post.toString('utf8'));
    postSealRecords = joined.records.length - chain.records.length;
    for (const p of joined.problems)
      if (p.line > chain.records.length)
        problems.push({
          file: POST_SEAL_FILE,
          line: p.line - chain.records.length,
          message: p.message,
        });
  }

  // Signature and key.
  let publicKeySha256: string | null = null;
  let valid = false;
  const pem = need('pub.pem');
  const sig = need('SHA256SUMS.sig');
  let pub: KeyObject | null = null;
  if (pem) {
    try {
      pub = createPublicKey(pem);
      if (pub.asymmetricKeyType !== 'ed25519') throw new Error(`a ${pub.asymmetricKeyType} key`);
      publicKeySha256 = keyFingerprint(pub);
    } catch (err) {
      problems.push({
        file: 'pub.pem',
        message: `is not an Ed25519 public key (${(err as Error).message})`,
      });
      pub = null;
    }
  }
  if (pub && sig && sumsText) {
    valid = verifyData(sumsText, sig, pub);
    if (!valid)
      problems.push({
        file: 'SHA256SUMS.sig',
        message: 'is not a valid signature of SHA256SUMS by pub.pem',
      });
  }
  const expected = opts.expectedKey ? keyFingerprint(opts.expectedKey) : null;
  const trusted: TrustedKey[] = [
    ...(opts.trustedKeys ?? []),
    ...(opts.expectedKey
      ? [{ name: 'the --pubkey key', fingerprint: expected!, key: opts.expectedKey }]
      : []),
  ];
  let signer: VerifyReport['signature']['signer'] = { status: 'unchecked' };
  if (trusted.length) {
    const known = trusted.find((t) => t.fingerprint === publicKeySha256);
    signer = known
      ? { status: 'trusted', name: known.name, fingerprint: known.fingerprint }
      : {
          status: 'untrusted',
          known: trusted.map((t) => ({ name: t.name, fingerprint: t.fingerprint })),
        };
    if (!known && publicKeySha256)
      problems.push({
        file: 'pub.pem',
        message: `is not a trusted key: its fingerprint is ${publicKeySha256}, the trusted keys are ${trusted.map((t) => `${t.name} ${t.fingerprint}`).join(', ')}`,
      });
  }
  const claimed = [
    info?.seal?.publicKeySha256,
    (sealRec?.details as { publicKeySha256?: string } | undefined)?.publicKeySha256,
  ];
  if (publicKeySha256 && claimed.some((c) => c && c !== publicKeySha256))
    problems.push({
      file: 'pub.pem',
      message: `is not the key the case was sealed with (its fingerprint is ${publicKeySha256}; case.json and custody name ${safeText(String(claimed.find(Boolean)))})`,
    });

  // The trusted time.
  const tsr = obs.texts.get(TSR_NAME);
  let timestamp: TimestampCheck | null = null;
  if (tsr) {
    timestamp = checkTimestamp(tsr, sumsText, opts.tsaCas);
    for (const m of timestamp.problems) problems.push({ file: TSR_NAME, message: m });
  } else if (info?.seal?.tsa && !obs.odd.some((o) => o.name === TSR_NAME))
    problems.push({
      file: TSR_NAME,
      message: `is missing: case.json says SHA256SUMS was timestamped by ${safeText(String(info.seal.tsa))}`,
    });
  if (opts.tsaCas?.length && !tsr)
    problems.push({ file: TSR_NAME, message: 'is missing: --tsa-ca asks for a trusted timestamp' });

  // The bundle's own hash file.
  let bundleSum: VerifyReport['bundleSum'] = null;
  if (obs.bundle && opts.bundleSumText !== undefined) {
    const m = opts.bundleSumText ? /^([0-9a-f]{64}) [ *](.+)\n?$/.exec(opts.bundleSumText) : null;
    bundleSum = { expected: m?.[1] ?? null, actual: obs.bundle.sha256 };
    const sumName = `${opts.bundleName ?? 'bundle'}.sha256`;
    if (opts.bundleSumText !== null && !m)
      problems.push({ file: sumName, message: 'is not a `<sha256>  <name>` line' });
    else if (m && m[1] !== obs.bundle.sha256)
      problems.push({
        file: opts.bundleName ?? 'bundle',
        message: `sha256 ${short(obs.bundle.sha256)} does not match ${sumName} (${short(m[1])})`,
      });
  }

  const files = [...obs.files.values()];
  return {
    ok: problems.length === 0,
    kind: obs.kind,
    caseId: info?.id ?? null,
    checked: {
      files: files.length,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      sumsLines: sums.entries.size,
      manifestEntries: described.length,
      custodyRecords: chain.records.length,
      postSealRecords,
    },
    signature: { valid, publicKeySha256, expectedKey: expected, signer },
    timestamp,
    bundleSum,
    problems,
  };
}

/** Each custody record's artifact hashes must be the manifest's. */
function crossCheckCustody(
  records: CustodyRecord[],
  described: { path: string; sha256: string; bytes: number }[],
  problems: Problem[],
): void {
  const byPath = new Map(described.map((a) => [a.path, a]));
  records.forEach((r, i) => {
    if (r.artifacts !== undefined && !Array.isArray(r.artifacts))
      problems.push({ file: 'custody.jsonl', line: i + 1, message: '"artifacts" is not a list' });
    for (const a of Array.isArray(r.artifacts) ? (r.artifacts as unknown[]) : []) {
      if (!isListed(a)) {
        problems.push({
          file: 'custody.jsonl',
          line: i + 1,
          message: 'an artifact is not {path, sha256, bytes}',
        });
        continue;
      }
      const m = byPath.get(a.path);
      if (m && (m.sha256 !== a.sha256 || m.bytes !== a.bytes))
        problems.push({
          file: 'custody.jsonl',
          line: i + 1,
          message: `records ${a.path} as ${short(a.sha256)} but manifest.json has ${short(m.sha256)}`,
        });
    }
  });
}
