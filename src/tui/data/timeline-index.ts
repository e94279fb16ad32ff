import fs from 'node:fs';
import type { TimelineEvent } from '../types.js';
import { Growable, readLineBytes, scanField } from './line-scan.js';

const CHUNK = 4 * 1024 * 1024;
const CACHE_MAX = 4000;
/** Longest line the index reads into memory; a longer one (a tampered file) is indexed and skipped. */
export const MAX_INDEX_LINE = 32 * 1024 * 1024;
const NL = 10;
const TIMESTAMP = Buffer.from('"timestamp":');
const SOURCE = Buffer.from('"source":"');

export interface IndexProgress {
  indexed: number;
  done: boolean;
  sources: readonly string[];
}

/**
 * A line index over timeline/timeline.jsonl: byte offsets, timestamps and source ids, built once by
 * streaming the file. Rows are read back only for the window on screen, so a case of a million events
 * costs ~18 bytes per event in memory and a few small reads per frame.
 */
export class TimelineIndex {
  private readonly offsets = new Growable((n) => new Float64Array(n));
  private readonly stamps = new Growable((n) => new Float64Array(n));
  private readonly srcIds = new Growable((n) => new Uint16Array(n));
  private readonly sourceIds = new Map<string, number>();
  readonly sources: string[] = [];
  /** False once a timestamp goes backwards: time jumps then scan instead of bisecting. */
  sorted = true;
  private readonly cache = new Map<number, TimelineEvent>();
  /** Lines longer than MAX_INDEX_LINE: shown as a placeholder, never read. */
  private readonly tooLong = new Set<number>();
  private fd: number;
  /** End (exclusive) of the last line indexed so far. */
  private lastEnd = 0;
  private complete = false;

  /** Resolves when every line is indexed (rejects when the file cannot be read). */
  readonly ready: Promise<void>;

  private constructor(
    readonly file: string,
    onProgress?: (p: IndexProgress) => void,
    signal?: AbortSignal,
  ) {
    this.fd = fs.openSync(file, 'r');
    this.ready = this.build(onProgress, signal);
    // The owner handles failures through `ready`; this only keeps an unobserved one from crashing.
    this.ready.catch(() => undefined);
  }

  /**
   * Opens `file` and starts indexing it in the background: lines can be read as soon as they are
   * indexed (the UI shows the first screen at once), progress is reported after every chunk.
   */
  static start(
    file: string,
    onProgress?: (p: IndexProgress) => void,
    signal?: AbortSignal,
  ): TimelineIndex {
    return new TimelineIndex(file, onProgress, signal);
  }

  /** Opens and indexes `file` completely. */
  static async open(
    file: string,
    onProgress?: (p: IndexProgress) => void,
    signal?: AbortSignal,
  ): Promise<TimelineIndex> {
    const ix = TimelineIndex.start(file, onProgress, signal);
    try {
      await ix.ready;
    } catch (err) {
      ix.close();
      throw err;
    }
    return ix;
  }

  get count(): number {
    return this.stamps.length;
  }

  get done(): boolean {
    return this.complete;
  }

  private async build(
    onProgress?: (p: IndexProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const fh = await fs.promises.open(this.file, 'r');
    try {
      let buf = Buffer.alloc(CHUNK);
      let carry = 0; // bytes of an unfinished line kept at the front of buf
      let base = 0; // file offset of buf[0]
      for (;;) {
        signal?.throwIfAborted();
        if (carry === buf.length && buf.length < MAX_INDEX_LINE)
          buf = Buffer.concat([buf, Buffer.alloc(buf.length)]);
        else if (carry === buf.length) {
          // An over-long line: index it from its start (time, source) and stream past the rest.
          this.addLine(buf, 0, carry, base);
          this.tooLong.add(this.count - 1);
          let pos = base + carry;
          let eof = false;
          for (;;) {
            const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
            if (!bytesRead) {
              eof = true;
              break;
            }
            const nl = buf.indexOf(NL);
            if (nl >= 0 && nl < bytesRead) {
              pos += nl;
              break;
            }
            pos += bytesRead;
            await new Promise((r) => setImmediate(r));
          }
          this.lastEnd = pos;
          if (eof) break;
          base = pos + 1;
          carry = 0;
          continue;
        }
        const { bytesRead } = await fh.read(buf, carry, buf.length - carry, base + carry);
        const len = carry + bytesRead;
        const last = bytesRead === 0;
        let start = 0;
        for (;;) {
          let nl = buf.indexOf(NL, start);
          if (nl < 0 || nl >= len) {
            if (!last || start >= len) break;
            nl = len; // a final line without a newline
          }
          if (nl > start) {
            this.addLine(buf, start, nl, base + start);
            this.lastEnd = base + nl;
          }
          start = nl + 1;
        }
        if (last) break;
        buf.copy(buf, 0, start, len);
        carry = len - start;
        base += start;
        onProgress?.({ indexed: this.count, done: false, sources: this.sources });
        // Let key presses and frames through between chunks.
        await new Promise((r) => setImmediate(r));
      }
      this.complete = true;
      onProgress?.({ indexed: this.count, done: true, sources: this.sources });
    } finally {
      await fh.close();
    }
  }

  private addLine(buf: Buffer, start: number, end: number, fileOffset: number): void {
    let stamp = scanTimestamp(buf, start, end);
    let source = scanField(buf, start, end, SOURCE);
    if (stamp === undefined || source === undefined) {
      // Unusual layout (keys reordered or escaped): parse this one line properly.
      const ev = parseLine(buf.toString('utf8', start, end));
      stamp ??= typeof ev?.timestamp === 'number' ? ev.timestamp : Number.NaN;
      source ??= typeof ev?.source === 'string' ? ev.source : '?';
    }
    const prev = this.stamps.length ? this.stamps.at(this.stamps.length - 1) : -Infinity;
    if (stamp < prev) this.sorted = false;
    this.offsets.push(fileOffset);
    this.stamps.push(stamp);
    this.srcIds.push(this.sourceId(source));
  }

  private sourceId(name: string): number {
    let id = this.sourceIds.get(name);
    if (id === undefined) {
      id = Math.min(this.sources.length, 0xffff);
      if (id < 0xffff) {
        this.sourceIds.set(name, id);
        this.sources.push(name);
      }
    }
    return id;
  }

  /** Byte range of line `i` (without the newline). */
  range(i: number): [number, number] {
    const start = this.offsets.at(i);
    const next = i + 1 < this.count ? this.offsets.at(i + 1) : this.lastEnd;
    return [start, next];
  }

  timestampAt(i: number): number {
    return this.stamps.at(i);
  }

  sourceAt(i: number): string {
    return this.sources[this.srcIds.at(i)] ?? '?';
  }

  sourceIdOf(name: string): number | undefined {
    return this.sourceIds.get(name);
  }

  sourceIdAt(i: number): number {
    return this.srcIds.at(i);
  }

  /** The event on line `i`, read and parsed on demand (cached: scrolling re-reads mostly the same lines). */
  event(i: number): TimelineEvent {
    const hit = this.cache.get(i);
    if (hit) return hit;
    const [a, b] = this.range(i);
    // JSON.parse ignores the trailing newline (and any blank lines skipped after it).
    const ev =
      this.tooLong.has(i) || b - a > MAX_INDEX_LINE
        ? unreadable(
            i,
            this.stamps.at(i),
            `is ${(b - a).toLocaleString('en-US')} bytes long: too long to show`,
          )
        : (parseLine(readLineBytes(this.fd, a, b).toString('utf8')) ??
          unreadable(i, this.stamps.at(i)));
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(i, ev);
    return ev;
  }

  /** Reads a whole byte range (searching streams the file through this). */
  read(position: number, length: number, into: Buffer): number {
    return fs.readSync(this.fd, into, 0, length, position);
  }

  /** First line index at or after `offset` bytes (bisects the offsets). */
  lineOfOffset(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.offsets.at(mid) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

function scanTimestamp(buf: Buffer, start: number, end: number): number | undefined {
  const at = buf.indexOf(TIMESTAMP, start);
  if (at < 0 || at >= end) return undefined;
  let v = 0;
  let p = at + TIMESTAMP.length;
  const neg = buf[p] === 45;
  if (neg) p++;
  const first = p;
  for (; p < end && buf[p] >= 48 && buf[p] <= 57; p++) v = v * 10 + (buf[p] - 48);
  return p === first ? undefined : neg ? -v : v;
}

/** One timeline.jsonl line as the screen needs it: the fields it shows are made strings and numbers. */
export function parseLine(text: string): TimelineEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const e = v as Record<string, unknown>;
  const str = (k: string): string => (typeof e[k] === 'string' ? (e[k] as string) : '');
  return {
    ...(e as object),
    id: str('id'),
    datetime: str('datetime'),
    timestamp: typeof e.timestamp === 'number' ? e.timestamp : Number.NaN,
    timestamp_desc: str('timestamp_desc'),
    message: str('message'),
    source: str('source') || '?',
  } as TimelineEvent;
}

function unreadable(i: number, stamp: number, why = 'is not valid JSON'): TimelineEvent {
  return {
    id: '',
    datetime: '',
    timestamp: stamp,
    timestamp_desc: '',
    message: `(line ${i + 1} ${why})`,
    source: '?',
  };
}
