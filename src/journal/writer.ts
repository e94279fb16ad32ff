import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { describeHolder, tryLock, type HeldLock } from '../evidence/lock-file.js';
import { keyFingerprint } from '../evidence/sign.js';
import { safeText } from '../util/sanitize.js';
import {
  encodeLine,
  GENESIS,
  segmentName,
  type JournalBody,
  type JournalRecord,
  type RecordKind,
} from './record.js';
import { isSealed, sealFiles, sealSegment } from './seal.js';
import { listSegments, readSegment, segmentEnds } from './segments.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SEGMENT_AGE_MS = 60 * 60 * 1000;
export const LOCK_FILE = 'journal.lock';

export interface Retention {
  /** Sealed segments whose last record is older than this are dropped. */
  maxAgeMs?: number;
  /** The journal (segments and seals) is kept under this many bytes, oldest segments dropped first. */
  maxBytes?: number;
}

export interface WriterOptions {
  dir: string;
  key: KeyObject;
  segmentBytes?: number;
  segmentMaxAgeMs?: number;
  retention?: Retention;
  /** Who writes (for the lock file and the start record). */
  command?: string;
  onWarning?: (msg: string) => void;
  /** The clock (tests). */
  now?: () => number;
}

/** What the journal held when this writer opened it (the recorder resumes its event feed from it). */
export interface Resumed {
  /** The last record before this writer (undefined for a new journal). */
  last?: JournalRecord;
  /** The newest engine event time recorded (ns), to re-read the missed window from. */
  lastEventNs?: bigint;
  /** The previous writer did not stop cleanly (no journal:stop, or a torn last line). */
  unclean: boolean;
}

/**
 * The one writer of a journal folder (a lock keeps a second one out). Appends are synchronous: each
 * record is hashed onto the chain and written with one write(2) before append returns, so the order
 * on disk is the order of appends and a crash loses at most the line being written.
 */
export class JournalWriter {
  private fd = -1;
  private segment = '';
  private segmentNo = 0;
  private segmentBytes = 0;
  private segmentOpenedAt = 0;
  private segmentRecords = 0;
  private seq = 0;
  private prevHash = GENESIS;
  private closed = false;
  private readonly fingerprint: string;
  /** Bytes of every file of the journal (segments and seal files), kept up to date as we write. */
  private totalBytes = 0;
  records = 0;
  readonly resumed: Resumed;
  /** What the `journal:start` record should say about this writer (the recorder adds its own fields). */
  startInfo: Record<string, unknown> = {};

  private constructor(
    private readonly o: WriterOptions,
    private readonly lock: HeldLock,
    private readonly now: () => number,
  ) {
    this.fingerprint = keyFingerprint(o.key);
    this.resumed = this.resume();
  }

  static open(o: WriterOptions): JournalWriter {
    const dir = path.resolve(o.dir);
    fs.mkdirSync(dir, { recursive: true });
    const got = tryLock(path.join(dir, LOCK_FILE), {
      command: o.command ?? 'cirt recorder',
      journal: dir,
    });
    if (!got.ok)
      throw new UserError(
        `The journal ${safeText(dir)} is being written by another recorder: ${describeHolder(got.holder)}`,
        {
          hint: 'One recorder per journal folder: stop the other one or give this one another folder.',
        },
      );
    try {
      return new JournalWriter({ ...o, dir }, got.lock, o.now ?? Date.now);
    } catch (err) {
      got.lock.release();
      throw err;
    }
  }

  get dir(): string {
    return this.o.dir;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get currentSegment(): string {
    return this.segment;
  }

  /** Appends one record (a new segment first when this one is full or old); returns it as written. */
  append(kind: RecordKind, fields: Record<string, unknown> = {}): JournalRecord {
    if (this.closed) throw new Error(`journal ${this.o.dir} is closed`);
    this.maybeRotate();
    return this.write(kind, fields);
  }

  /** Appends `journal:start` (this writer's facts and `fields`), then applies retention once. */
  start(fields: Record<string, unknown>): JournalRecord {
    const rec = this.append('journal:start', { ...this.startInfo, ...fields });
    this.enforceRetention();
    return rec;
  }

  /** Rotates by age even when nothing is appended (called by the recorder's timer). */
  tick(): void {
    if (!this.closed) this.maybeRotate();
  }

  /** Appends `journal:stop`, seals the open segment and releases the lock. */
  close(fields: Record<string, unknown> = {}): void {
    if (this.closed) return;
    this.write('journal:stop', fields);
    this.closeSegment();
    this.closed = true;
    this.lock.release();
  }

  private write(kind: RecordKind, fields: Record<string, unknown>): JournalRecord {
    const body: JournalBody = {
      seq: ++this.seq,
      time: new Date(this.now()).toISOString(),
      kind,
      ...fields,
      prevHash: this.prevHash,
    };
    const { line, hash } = encodeLine(body);
    const buf = Buffer.from(line);
    fs.writeSync(this.fd, buf);
    this.prevHash = hash;
    this.segmentBytes += buf.length;
    this.totalBytes += buf.length;
    this.segmentRecords++;
    this.records++;
    return { ...body, hash };
  }

  private maybeRotate(): void {
    const limit = this.o.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const age = this.o.segmentMaxAgeMs ?? DEFAULT_SEGMENT_AGE_MS;
    // A segment holding only its opening record is never rotated: a quiet journal makes no empty files.
    if (this.segmentRecords <= 1) return;
    if (this.segmentBytes < limit && this.now() - this.segmentOpenedAt < age) return;
    const previous = this.segment;
    this.closeSegment();
    this.openSegment(this.segmentNo + 1, previous);
    this.enforceRetention();
  }

  private openSegment(n: number, previous: string | null): void {
    this.segmentNo = n;
    this.segment = segmentName(n);
    // 'wx': a segment is never appended to by a second session; resuming always starts a new one.
    this.fd = fs.openSync(path.join(this.o.dir, this.segment), 'wx', 0o644);
    this.segmentBytes = 0;
    this.segmentRecords = 0;
    this.segmentOpenedAt = this.now();
    this.write('segment:open', {
      segment: this.segment,
      previous,
      keyFingerprint: this.fingerprint,
    });
  }

  private closeSegment(): void {
    if (this.fd < 0) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
    sealSegment(this.o.dir, this.segment, this.o.key);
    this.totalBytes += sealBytes(this.o.dir, this.segment);
  }

  /** Picks up the chain where the last writer left it; seals a segment a crash left open. */
  private resume(): Resumed {
    const dir = this.o.dir;
    const segs = listSegments(dir);
    for (const f of fs.readdirSync(dir)) {
      try {
        this.totalBytes += f === LOCK_FILE ? 0 : fs.statSync(path.join(dir, f)).size;
      } catch {
        // Gone meanwhile.
      }
    }
    const lastSeg = segs[segs.length - 1];
    const resumed: Resumed = { unclean: false };
    if (lastSeg) {
      const ends = segmentEnds(path.join(dir, lastSeg.name));
      resumed.last = ends.last;
      resumed.unclean = ends.torn || ends.last?.kind !== 'journal:stop';
      if (ends.torn)
        this.o.onWarning?.(
          `journal segment ${lastSeg.name} ends in a partial record (the previous recorder stopped mid-write); it is sealed as found and verify will name it`,
        );
      if (ends.last) {
        this.seq = ends.last.seq;
        this.prevHash = ends.last.hash;
        const ns = ends.last.lastEventNs;
        if (typeof ns === 'string' && /^\d+$/.test(ns)) resumed.lastEventNs = BigInt(ns);
      }
      if (resumed.lastEventNs === undefined) resumed.lastEventNs = lastEventIn(dir, lastSeg.name);
      if (!isSealed(dir, lastSeg.name)) {
        sealSegment(dir, lastSeg.name, this.o.key);
        this.totalBytes += sealBytes(dir, lastSeg.name);
      }
    }
    this.openSegment((lastSeg?.n ?? 0) + 1, lastSeg?.name ?? null);
    this.startInfo = {
      pid: process.pid,
      command: this.o.command ?? 'cirt recorder',
      keyFingerprint: this.fingerprint,
      ...(lastSeg
        ? { resumedAfter: resumed.last?.seq ?? null, uncleanStop: resumed.unclean }
        : { newJournal: true }),
    };
    return resumed;
  }

  /** Drops the oldest sealed segments past the age or size bound, and records the drop. */
  private enforceRetention(): void {
    const r = this.o.retention;
    if (!r || (r.maxAgeMs === undefined && r.maxBytes === undefined)) return;
    const dir = this.o.dir;
    const dropped: Record<string, unknown>[] = [];
    const reasons = new Set<string>();
    for (const s of listSegments(dir)) {
      if (s.name === this.segment) break;
      const ends = segmentEnds(path.join(dir, s.name));
      const lastTime = ends.last ? Date.parse(ends.last.time) : 0;
      const tooOld = r.maxAgeMs !== undefined && this.now() - lastTime > r.maxAgeMs;
      const tooBig = r.maxBytes !== undefined && this.totalBytes > r.maxBytes;
      if (!tooOld && !tooBig) break;
      if (tooOld) reasons.add(`older than ${r.maxAgeMs} ms`);
      if (tooBig) reasons.add(`journal over ${r.maxBytes} bytes`);
      const freed = ends.bytes + sealBytes(dir, s.name);
      const seal = sealFiles(dir, s.name);
      let sha256: string | undefined;
      try {
        sha256 = fs.readFileSync(seal.sums, 'utf8').split(' ')[0];
      } catch {
        sha256 = undefined;
      }
      for (const f of [path.join(dir, s.name), seal.sums, seal.sig, seal.pub])
        fs.rmSync(f, { force: true });
      this.totalBytes -= freed;
      dropped.push({
        segment: s.name,
        firstSeq: ends.first?.seq ?? null,
        lastSeq: ends.last?.seq ?? null,
        from: ends.first?.time ?? null,
        to: ends.last?.time ?? null,
        lastHash: ends.last?.hash ?? null,
        sha256: sha256 ?? null,
        bytes: freed,
      });
    }
    if (dropped.length)
      this.write('retention:dropped', { segments: dropped, reason: [...reasons].join(', ') });
  }
}

function sealBytes(dir: string, segment: string): number {
  let n = 0;
  for (const f of Object.values(sealFiles(dir, segment))) {
    try {
      n += fs.statSync(f).size;
    } catch {
      // Not there.
    }
  }
  return n;
}

/** The newest engine event time (ns) in a segment, for a recorder resuming after a crash. */
function lastEventIn(dir: string, segment: string): bigint | undefined {
  let latest: bigint | undefined;
  for (const { text } of readSegment(path.join(dir, segment))) {
    const m = /"kind":"engine:event".*?"ns":"(\d+)"/.exec(text);
    if (m && (latest === undefined || BigInt(m[1]) > latest)) latest = BigInt(m[1]);
  }
  return latest;
}
