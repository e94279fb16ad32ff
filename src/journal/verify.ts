import { createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseSums } from '../evidence/sha256sums.js';
import { keyFingerprint, verifyData } from '../evidence/sign.js';
import { decodeLine, GENESIS, segmentName, type JournalRecord } from './record.js';
import { sealFiles, sha256File } from './seal.js';
import { listSegments, readSegment } from './segments.js';
import { LOCK_FILE } from './writer.js';
import { readLock, isStale } from '../evidence/lock-file.js';

export interface JournalProblem {
  /** The segment file (or the folder, `.`). */
  segment: string;
  /** 1-based line in the segment, when it is about one record. */
  line?: number;
  seq?: number;
  message: string;
}

export interface JournalVerifyReport {
  ok: boolean;
  segments: number;
  sealed: number;
  records: number;
  /** Segments retention dropped (recorded in the chain), oldest first. */
  dropped: string[];
  /** The segment a live recorder is writing (checked by the chain only; sealed when it closes). */
  open?: string;
  problems: JournalProblem[];
  /** Things that are not tampering but limit what was checked. */
  notes: string[];
  first?: { seq: number; time: string };
  last?: { seq: number; time: string };
}

/**
 * Checks a journal folder offline: every record's own hash, the chain across all segments (each
 * record's prevHash is its predecessor's hash, seq counts up by one), every closed segment against
 * its SHA256SUMS and their Ed25519 signature, and that no segment is missing — the only segments
 * allowed to be absent are the oldest ones a `retention:dropped` record names, with the hash the
 * chain continues from.
 */
export function verifyJournal(dir: string, o: { pubkey?: KeyObject } = {}): JournalVerifyReport {
  const problems: JournalProblem[] = [];
  const notes: string[] = [];
  const report: JournalVerifyReport = {
    ok: false,
    segments: 0,
    sealed: 0,
    records: 0,
    dropped: [],
    problems,
    notes,
  };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    problems.push({ segment: '.', message: `${dir} is not a folder` });
    return report;
  }
  const segs = listSegments(dir);
  report.segments = segs.length;
  if (!segs.length) {
    problems.push({ segment: '.', message: 'no journal segments (NNNNNN.jsonl) in the folder' });
    return report;
  }
  const lock = readLock(path.join(dir, LOCK_FILE));
  const live = lock !== undefined && !isStale(lock);
  const drops = new Map<string, { lastHash: string | null; lastSeq: number | null }>();
  const fingerprints = new Set<string>();
  let prev: JournalRecord | undefined;
  let firstPrevHash: string | undefined;
  let firstSeq: number | undefined;
  let expectedNo: number | undefined;
  for (const [i, s] of segs.entries()) {
    const isLast = i === segs.length - 1;
    if (expectedNo !== undefined && s.n !== expectedNo) {
      for (let m = expectedNo; m < s.n; m++)
        problems.push({
          segment: segmentName(m),
          message: 'segment is missing (removed, and not by retention)',
        });
    }
    expectedNo = s.n + 1;
    const file = path.join(dir, s.name);
    const bytes = fs.statSync(file).size;
    if (bytes && !endsWithNewline(file, bytes))
      problems.push({
        segment: s.name,
        message: 'ends in a partial record (the recorder stopped mid-write, or the file was cut)',
      });
    let firstInSegment = true;
    for (const { line, text } of readSegment(file)) {
      const rec = decodeLine(text);
      if (typeof rec === 'string') {
        problems.push({ segment: s.name, line, message: rec });
        // The chain cannot be followed through a broken record: resync on the next good one.
        prev = undefined;
        continue;
      }
      report.records++;
      if (firstPrevHash === undefined) {
        firstPrevHash = rec.prevHash;
        firstSeq = rec.seq;
        report.first = { seq: rec.seq, time: rec.time };
      } else if (prev) {
        if (rec.prevHash !== prev.hash)
          problems.push({
            segment: s.name,
            line,
            seq: rec.seq,
            message: `chain broken: prevHash ${rec.prevHash.slice(0, 12)}… is not the hash of record ${prev.seq} (${prev.hash.slice(0, 12)}…): a record before it was removed, reordered or edited`,
          });
        if (rec.seq !== prev.seq + 1)
          problems.push({
            segment: s.name,
            line,
            seq: rec.seq,
            message: `seq ${rec.seq} follows ${prev.seq}: ${rec.seq > prev.seq ? `${rec.seq - prev.seq - 1} record(s) missing` : 'out of order'}`,
          });
      }
      if (firstInSegment && (rec.kind !== 'segment:open' || rec.segment !== s.name))
        problems.push({
          segment: s.name,
          line,
          seq: rec.seq,
          message: `the first record does not open this segment (it says ${rec.kind} ${String(rec.segment ?? '')}): segment renamed or cut`,
        });
      firstInSegment = false;
      if (typeof rec.keyFingerprint === 'string') fingerprints.add(rec.keyFingerprint);
      if (rec.kind === 'retention:dropped' && Array.isArray(rec.segments))
        for (const d of rec.segments as {
          segment?: unknown;
          lastHash?: unknown;
          lastSeq?: unknown;
        }[])
          if (typeof d.segment === 'string') {
            drops.set(d.segment, {
              lastHash: typeof d.lastHash === 'string' ? d.lastHash : null,
              lastSeq: typeof d.lastSeq === 'number' ? d.lastSeq : null,
            });
            report.dropped.push(d.segment);
          }
      prev = rec;
      report.last = { seq: rec.seq, time: rec.time };
    }
    if (firstInSegment) problems.push({ segment: s.name, message: 'segment holds no record' });
    const sealed = checkSeal(dir, s.name, o.pubkey, problems);
    if (sealed === 'sealed') report.sealed++;
    else if (isLast && live) {
      report.open = s.name;
      notes.push(
        `${s.name} is being written by a live recorder (${lock?.command ?? '?'}, pid ${lock?.pid ?? '?'}): its records are checked by the chain; it is sealed when it closes`,
      );
    } else if (isLast)
      notes.push(
        `${s.name} is not sealed: its recorder stopped without closing it (it is sealed when a recorder next opens the journal); its records are checked by the chain only`,
      );
    else
      problems.push({ segment: s.name, message: 'closed segment is not sealed (no SHA256SUMS)' });
  }
  // The oldest segment: starts the chain, or continues from a segment retention dropped.
  const first = segs[0];
  if (firstPrevHash !== undefined && firstPrevHash !== GENESIS) {
    const from = [...drops.entries()].find(([, d]) => d.lastHash === firstPrevHash);
    if (!from)
      problems.push({
        segment: first.n > 1 ? segmentName(first.n - 1) : first.name,
        message: `segment is missing: ${first.name} continues a chain (record ${firstSeq} links to ${firstPrevHash.slice(0, 12)}…) whose earlier segment is gone and no retention record says it was dropped`,
      });
    else if (from[1].lastSeq !== null && firstSeq !== from[1].lastSeq + 1)
      problems.push({
        segment: first.name,
        seq: firstSeq,
        message: `the first record is seq ${firstSeq}, but the dropped ${from[0]} ended at ${from[1].lastSeq}`,
      });
  }
  if (o.pubkey === undefined && fingerprints.size)
    checkKeysRecorded(dir, segs, fingerprints, problems);
  report.ok = problems.length === 0;
  return report;
}

function endsWithNewline(file: string, bytes: number): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, bytes - 1);
    return b[0] === 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}

/** 'sealed', 'unsealed' (no SHA256SUMS), or 'bad' (a problem was added). */
function checkSeal(
  dir: string,
  segment: string,
  pubkey: KeyObject | undefined,
  problems: JournalProblem[],
): 'sealed' | 'unsealed' | 'bad' {
  const f = sealFiles(dir, segment);
  if (!fs.existsSync(f.sums)) return 'unsealed';
  const sumsText = fs.readFileSync(f.sums);
  const parsed = parseSums(sumsText.toString('utf8'));
  const entry = parsed.entries.get(segment);
  let bad = false;
  const problem = (message: string) => {
    problems.push({ segment, message });
    bad = true;
  };
  if (parsed.problems.length || !entry || parsed.entries.size !== 1)
    problem(`${path.basename(f.sums)} does not list exactly this segment`);
  else if (entry.sha256 !== sha256File(path.join(dir, segment)))
    problem(`content does not match ${path.basename(f.sums)} (changed after it was sealed)`);
  let key = pubkey;
  if (!key) {
    try {
      key = createPublicKey(fs.readFileSync(f.pub));
    } catch (err) {
      problem(`${path.basename(f.pub)} is missing or not a public key: ${(err as Error).message}`);
    }
  }
  let sig: Buffer | undefined;
  try {
    sig = fs.readFileSync(f.sig);
  } catch {
    problem(`${path.basename(f.sig)} is missing`);
  }
  if (key && sig && !verifyData(sumsText, sig, key))
    problem(
      `the Ed25519 signature ${path.basename(f.sig)} does not hold for ${path.basename(f.sums)}`,
    );
  return bad ? 'bad' : 'sealed';
}

/** Each segment's pub.pem must be a key a `journal:start` record committed to in the chain. */
function checkKeysRecorded(
  dir: string,
  segs: { name: string }[],
  fingerprints: Set<string>,
  problems: JournalProblem[],
): void {
  for (const s of segs) {
    const f = sealFiles(dir, s.name);
    if (!fs.existsSync(f.pub)) continue;
    try {
      const fp = keyFingerprint(createPublicKey(fs.readFileSync(f.pub)));
      if (!fingerprints.has(fp))
        problems.push({
          segment: s.name,
          message: `sealed with key ${fp.slice(0, 16)}…, which no journal:start record names (re-signed by someone else?)`,
        });
    } catch {
      // Reported by checkSeal.
    }
  }
}
