import { createHash } from 'node:crypto';
import { GENESIS } from '../evidence/custody.js';

export { GENESIS };

/** What a journal record is about (docs/journal.md lists each kind and its fields). */
export type RecordKind =
  /** The recorder started (or resumed on an existing journal). */
  | 'journal:start'
  | 'journal:stop'
  /** A new segment begins; its first record. */
  | 'segment:open'
  /** One engine event, its raw JSON line kept exactly (`raw`). */
  | 'engine:event'
  /** The event stream ended or failed: recording of events is interrupted from `at`. */
  | 'engine:lost'
  /** Events between `from` and `to` could not be recorded (engine down, stream lost). */
  | 'gap'
  | 'process:appeared'
  | 'process:ended'
  | 'socket:appeared'
  | 'socket:ended'
  /** A snapshot could not read something (a container's /proc): stated, not silently skipped. */
  | 'snapshot:problem'
  /** Retention removed the oldest segments: which, with their last hashes, so the chain still verifies. */
  | 'retention:dropped';

/** One line of a journal segment before hashing. */
export interface JournalBody {
  seq: number;
  /** When the recorder wrote it (ISO 8601, ms). */
  time: string;
  kind: RecordKind;
  /** The container it is about (full id), when it is about one. */
  container?: string;
  prevHash: string;
  [field: string]: unknown;
}

export interface JournalRecord extends JournalBody {
  hash: string;
}

/**
 * The custody line scheme (evidence/custody.ts), for any record: the line's `hash` is the sha256 of
 * the line's JSON without its trailing `,"hash":"…"` member, so
 * `sed 's/,"hash":"[0-9a-f]*"}$/}/' | sha256sum` checks each line with stock tools.
 */
export function encodeLine(body: JournalBody): { line: string; hash: string } {
  const json = JSON.stringify(body);
  const hash = createHash('sha256').update(json).digest('hex');
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

const LINE = /^(.*),"hash":"([0-9a-f]{64})"\}$/;

/** Parses one line and checks its own hash; a string says what is wrong with it. */
export function decodeLine(line: string): JournalRecord | string {
  const m = LINE.exec(line);
  if (!m) return 'not a journal record (no trailing hash)';
  const actual = createHash('sha256').update(`${m[1]}}`).digest('hex');
  let rec: JournalRecord;
  try {
    rec = JSON.parse(line) as JournalRecord;
  } catch {
    return 'not valid JSON';
  }
  if (actual !== m[2])
    return `record was edited (hash ${m[2].slice(0, 12)}… does not match content ${actual.slice(0, 12)}…)`;
  if (
    typeof rec.seq !== 'number' ||
    typeof rec.prevHash !== 'string' ||
    typeof rec.kind !== 'string'
  )
    return 'record lacks seq, kind or prevHash';
  return rec;
}

/** Segment file names: a zero-padded number, so name order is time order. */
export const SEGMENT = /^(\d{6,})\.jsonl$/;

export function segmentName(n: number): string {
  return `${String(n).padStart(6, '0')}.jsonl`;
}

/** `000001.jsonl` → `000001` (the stem its seal files share). */
export function segmentStem(name: string): string {
  return name.replace(/\.jsonl$/, '');
}

/** The engine event's time in ns as a bigint, read from the raw text (a JS number loses the last digits). */
export function eventNanos(raw: string): bigint | undefined {
  const m = /"timeNano":(\d+)/.exec(raw);
  if (m) return BigInt(m[1]);
  const s = /"time":(\d+)/.exec(raw);
  return s ? BigInt(s[1]) * 1_000_000_000n : undefined;
}

/** `seconds.nanoseconds` for the engine's `since` from a ns time. */
export function nanosToEngineTime(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${s}.${frac}`;
}
