import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FailureError, UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { writeBundle, type Bundle } from './archive.js';
import { listFolder, type FolderListing } from './case-files.js';
import type { CaseStore } from './case-store.js';
import { checkChain } from './custody.js';
import { writeNewFile } from './paths.js';
import { hashFile } from './verify-read.js';
import { POST_SEAL_FILE } from './post-seal-custody.js';
import type { ChainProblem, CustodyRecord } from './custody.js';
import { BOOKKEEPING, formatSums, UNSUMMED, type SumEntry } from './sha256sums.js';
import { generateSigningKey, keyFingerprint, loadSigningKey, publicPem, signData } from './sign.js';
import type { CaseInfo, KeySource, ManifestEntry } from './types.js';
import { timestampSums, TSR_FILE } from './seal-timestamp.js';
import { certFingerprint, encryptSealedBundle, type EncryptedBundle } from './seal-encrypt.js';
import { describeWriteError } from './write-errors.js';

/** A file found in the case folder at sealing that no step recorded (hashed at seal time). */
export interface UnlistedFile {
  path: string;
  sha256: string;
  bytes: number;
  why: string;
}

/** What the seal knows when the report is written (the report layer adds the findings). */
export interface SealFacts {
  root: string;
  info: CaseInfo;
  records: CustodyRecord[];
  chainProblems: ChainProblem[];
  artifacts: readonly ManifestEntry[];
  unlisted: UnlistedFile[];
  sealedAt: string;
  key: { source: KeySource; fingerprint: string };
  /** The RFC 3161 authority SHA256SUMS will be timestamped by (absent: times are the host's clock). */
  tsa?: string;
  /** Fingerprints of the X.509 certificates the bundle will be encrypted to. */
  encryptedTo?: string[];
  /** Sealed by the last step of a run, which is still going: its status is not a gap. */
  duringRun?: boolean;
  /** The step sealing (a run's), absent for `cirt seal`. */
  step?: string;
}

/**
 * Renders the case's report files from what the seal knows, and counts its gaps. Passed in by
 * whoever seals (src/report/ provides it), so evidence never depends on the report.
 */
export type ReportHook = (facts: SealFacts) => Promise<{
  files: { rel: string; text: string; mediaType: string }[];
  gaps: number;
}>;

/** What a seal writes last; removed again when sealing fails before the folder is frozen. */
const SEAL_FILES = ['SHA256SUMS', 'SHA256SUMS.sig', 'pub.pem', TSR_FILE];

export interface SealOptions {
  store: CaseStore;
  actor: string;
  /** How the seal was started, for the custody record (`step seal`, `cirt seal`). */
  via: string;
  step?: string;
  /** Renders report.md / report.html. */
  report: ReportHook;
  /** Writes the report files as artifacts (hashed while written, listed in the manifest). */
  writeReport: (
    rel: string,
    text: string,
    meta: { mediaType: string; source: string },
  ) => Promise<ManifestEntry>;
  gzipLevel?: number;
  onProgress?: (p: { message?: string; bytes?: number }) => void;
  /** True when sealed by the last step of a run (the case is legitimately still "running"). */
  duringRun?: boolean;
}

export interface SealResult {
  files: number;
  fingerprint: string;
  keySource: KeySource;
  bundle: Bundle;
  /** The timestamp the TSA gave SHA256SUMS (genTime), when --tsa was used. */
  timestamp?: { tsa: string; genTime: string };
  /** The bundle encrypted to --encrypt-to's certificates, when it was. */
  encrypted?: EncryptedBundle;
  unlisted: number;
  gaps: number;
}

/**
 * Checks the folder against the manifest before anything is changed: every artifact is there with
 * the size it was written with (no re-reading), nothing is a symlink. Files no step recorded (left
 * by a crash) are hashed now and reported, so SHA256SUMS still covers every file.
 */
async function preflight(store: CaseStore, listing: FolderListing): Promise<UnlistedFile[]> {
  const problems: string[] = listing.odd.map((o) => `${o.rel} ${o.why}`);
  for (const name of [...UNSUMMED, POST_SEAL_FILE])
    if (fs.existsSync(path.join(store.root, name)))
      problems.push(`${name} exists in a case that is not sealed yet`);
  const sizes = new Map(listing.files.map((f) => [f.rel, f.size]));
  for (const a of store.artifacts) {
    const size = sizes.get(a.path);
    if (size === undefined)
      problems.push(`${a.path} is listed in manifest.json but missing from the folder`);
    else if (size !== a.bytes)
      problems.push(
        `${a.path} is ${size} bytes but was written with ${a.bytes}: it changed after collection`,
      );
  }
  if (problems.length) {
    throw new FailureError(
      `case ${store.id} cannot be sealed: ${problems.map(safeText).join('; ')}`,
      {
        hint: `Nothing was sealed. Find out who changed ${store.root} before going on; a case is sealed only as it was collected.`,
      },
    );
  }
  const known = new Set<string>([...store.artifacts.map((a) => a.path), ...BOOKKEEPING]);
  const unlisted: UnlistedFile[] = [];
  for (const f of listing.files) {
    if (known.has(f.rel)) continue;
    unlisted.push({
      path: f.rel,
      bytes: f.size,
      sha256: (await hashFile(path.join(store.root, f.rel))).sha256,
      why: 'found in the case folder at sealing, written by no recorded step (hashed at seal time)',
    });
  }
  return unlisted;
}

/**
 * Seals a case: report.md/html, case.json marked sealed, a last custody record, manifest.json,
 * SHA256SUMS over every file (hashes taken when each file was written), an Ed25519 signature, then
 * the folder is frozen and archived into `<case-id>.tar.gz` beside it.
 */
export async function sealCase(o: SealOptions): Promise<SealResult> {
  const { store } = o;
  if (store.sealed)
    throw new UserError(`Case ${store.id} is already sealed`, {
      hint: 'A sealed case never changes; `cirt verify` checks it.',
    });
  // The key first: a bad --sign-key must fail before anything is written.
  const keySource: KeySource = store.signKeyPath
    ? store.signKeyKept
      ? 'kept'
      : 'provided'
    : 'generated';
  const encryptedTo = (store.encryptTo ?? []).map(certFingerprint);
  const key: KeyObject = store.signKeyPath
    ? loadSigningKey(store.signKeyPath)
    : generateSigningKey();
  const fingerprint = keyFingerprint(key);
  // The space held back for failure records is the seal's now (and must not be sealed itself).
  store.releaseReserve();
  const unlisted = await preflight(store, await listFolder(store.root));

  const sealedAt = new Date().toISOString();
  const chain = checkChain(fs.readFileSync(store.custody.file, 'utf8'));
  const facts: SealFacts = {
    root: store.root,
    info: store.caseInfo,
    records: chain.records,
    chainProblems: chain.problems,
    artifacts: [...store.artifacts],
    unlisted,
    sealedAt,
    key: { source: keySource, fingerprint },
    ...(store.tsaUrl ? { tsa: store.tsaUrl } : {}),
    ...(encryptedTo.length ? { encryptedTo } : {}),
    duringRun: Boolean(o.duringRun),
    ...(o.step ? { step: o.step } : {}),
  };
  o.onProgress?.({ message: 'writing report.md and report.html' });
  const rendered = await o.report(facts);
  const reports: ManifestEntry[] = [];
  for (const f of rendered.files)
    reports.push(
      await o.writeReport(f.rel, f.text, {
        mediaType: f.mediaType,
        source: 'cirt report (case.json, custody.jsonl, manifest.json)',
      }),
    );
  // A report the disk cut short stays listed (incomplete), but the case is not sealed with it.
  const cut = reports.find((r) => !r.complete);
  if (cut)
    throw new FailureError(
      `case ${store.id} was not sealed: ${cut.error ?? `${cut.path} could not be written whole`}`,
      { hint: `Free space, then run \`cirt seal --case ${store.id}\`.` },
    );

  const before: CaseInfo = store.caseInfo;
  let files = 0;
  let timestamp: SealResult['timestamp'];
  await store.updateInfo({
    status: 'sealed',
    finishedAt: store.caseInfo.finishedAt ?? sealedAt,
    seal: {
      at: sealedAt,
      by: o.actor,
      key: keySource,
      publicKeySha256: fingerprint,
      ...(store.tsaUrl ? { tsa: store.tsaUrl } : {}),
      ...(encryptedTo.length ? { encryptedTo } : {}),
    },
  });
  try {
    await signAndFreeze();
  } catch (err) {
    // Not sealed after all: no SHA256SUMS may pose as a seal, and case.json must not say "sealed",
    // so `cirt seal` can seal the case once the cause (a full disk…) is gone.
    for (const f of SEAL_FILES) fs.rmSync(path.join(store.root, f), { force: true });
    await store
      .updateInfo({ status: before.status, finishedAt: before.finishedAt, seal: undefined })
      .catch(() => undefined);
    // A run's step failure is recorded by the runner; `cirt seal` records its own.
    if (!o.duringRun) {
      await store
        .record({
          actor: o.actor,
          action: 'evidence:seal',
          target: { id: before.target.id, name: before.target.name },
          result: 'failed',
          message: `sealing failed, nothing was signed: ${(err as Error).message}`,
          details: { via: o.via },
        })
        .catch(() => undefined);
    }
    throw err;
  }

  o.onProgress?.({ message: `archiving the sealed case into ${path.basename(store.root)}.tar.gz` });
  const bundle = await archiveSealed(store, o);
  const encrypted = await encryptSealedBundle(store, bundle, o);
  return {
    files,
    fingerprint,
    keySource,
    bundle,
    unlisted: unlisted.length,
    gaps: rendered.gaps,
    ...(timestamp ? { timestamp } : {}),
    ...(encrypted ? { encrypted } : {}),
  };

  async function signAndFreeze(): Promise<void> {
    const target = { id: store.caseInfo.target.id, name: store.caseInfo.target.name };
    await store.record({
      actor: o.actor,
      action: 'evidence:seal',
      target,
      step: o.step,
      result: 'info',
      message: `sealing: manifest.json, SHA256SUMS and its Ed25519 signature follow; this is the last record of the sealed chain`,
      artifacts: reports.map((a) => ({ path: a.path, sha256: a.sha256, bytes: a.bytes })),
      details: {
        via: o.via,
        key: keySource,
        publicKeySha256: fingerprint,
        ...(store.tsaUrl ? { tsa: store.tsaUrl } : {}),
        ...(encryptedTo.length ? { encryptedTo } : {}),
        artifacts: store.artifacts.length,
        unlisted: unlisted.map((u) => u.path),
        gaps: rendered.gaps,
      },
    });
    await store.custody.flush();
    await store.saveManifest({ sealedAt, bookkeeping: [...BOOKKEEPING], unlisted });

    const list: SumEntry[] = [
      ...store.artifacts.map((a) => ({ name: a.path, sha256: a.sha256 })),
      ...unlisted.map((u) => ({ name: u.path, sha256: u.sha256 })),
    ];
    const written = {
      'case.json': store.written.get('case.json'),
      'manifest.json': store.written.get('manifest.json'),
      'custody.jsonl': store.custody.digest(),
    };
    for (const [name, d] of Object.entries(written)) {
      if (!d) throw new Error(`bug: no write-time hash of ${name}`);
      list.push({ name, sha256: d.sha256 });
    }
    // Nothing may have appeared while sealing: SHA256SUMS must list exactly the folder.
    const now = await listFolder(store.root);
    const listed = new Set(list.map((s) => s.name));
    const stray = now.files.map((f) => f.rel).filter((f) => !listed.has(f));
    if (stray.length || now.odd.length)
      throw new FailureError(
        `files appeared in case ${store.id} while it was being sealed: ${[...stray, ...now.odd.map((x) => x.rel)].map(safeText).join(', ')}`,
        { hint: 'Another process writes into the case folder; stop it and investigate.' },
      );

    const text = Buffer.from(formatSums(list));
    const write = (name: string, data: Buffer): void => {
      try {
        writeNewFile(path.join(store.root, name), data);
      } catch (err) {
        throw describeWriteError(err, {
          root: store.root,
          caseId: store.id,
          rel: name,
          step: o.step,
        });
      }
    };
    write('SHA256SUMS', text);
    write('SHA256SUMS.sig', signData(text, key));
    write('pub.pem', Buffer.from(publicPem(key)));
    // After SHA256SUMS is final: the authority's token binds its hash to a time the host cannot set.
    if (store.tsaUrl) timestamp = await timestampSums(store.root, store.tsaUrl, text, o.onProgress);
    store.markSealed();
    files = list.length;
  }
}

/** Archives an already sealed folder (also used to finish a seal whose archiving failed). */
export async function archiveSealed(
  store: CaseStore,
  o: { gzipLevel?: number; onProgress?: (p: { bytes?: number }) => void } = {},
): Promise<Bundle> {
  const listing = await listFolder(store.root);
  const bundle = await writeBundle(
    store.root,
    { dirs: listing.dirs, files: listing.files.map((f) => f.rel) },
    { gzipLevel: o.gzipLevel, onBytes: (n) => o.onProgress?.({ bytes: n }) },
  );
  store.bundle = { path: bundle.path, sha256: bundle.sha256 };
  return bundle;
}
