import { createHash, type Hash } from 'node:crypto';
import {
  BLOCK,
  decodeHeader,
  isoTime,
  isZeroBlock,
  parsePax,
  typeName,
  type PaxRecords,
  type RawHeader,
} from './tar-header.js';

/** One entry of a tar stream, as indexed (names as exact bytes). */
export interface TarEntry {
  name: Buffer;
  linkname: Buffer | null;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: string | null;
  /** sha256 of the content for files (also when empty); null for everything else. */
  sha256: string | null;
  /** Byte offset of the entry's first header (PAX/long-name headers included) in the indexed stream. */
  offset: number;
}

/** PAX and GNU long-name headers are small; anything bigger is not a header we should hold. */
const MAX_META = 1024 * 1024;
const CONTENT_TYPES = new Set(['0', '\0', '7']);
/** Types whose size field never announces data (as Go's archive/tar, which wrote the engine's archives, reads them). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

/** An entry whose headers are read and whose data is about to start (see TarIndexer's `decide`). */
export interface EntryStart {
  /** The entry as indexed, without a hash yet (`sha256: null`). */
  entry: TarEntry;
  /** Where its data starts, and where the entry ends (data padded to the block), in the indexed stream. */
  dataOffset: number;
  endOffset: number;
}

/**
 * A synchronous, streaming tar indexer: feed it the bytes of one or more tar archives (concatenated
 * archives are read like `tar --ignore-zeros`); it calls `onEntry` for every entry, with the sha256
 * of its content computed as the bytes go by. Nothing is extracted and no content is kept.
 */
export class TarIndexer {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of entry data still to come, then padding to the block boundary. */
  private remaining = 0;
  private padding = 0;
  private hash: Hash | null = null;
  private meta: Buffer[] | null = null;
  private current: { raw: RawHeader; pax: PaxRecords; offset: number } | null = null;
  private pax: PaxRecords = new Map();
  private globalPax: PaxRecords = new Map();
  private longName: Buffer | null = null;
  private longLink: Buffer | null = null;
  private entryOffset = -1;
  private position = 0;
  private headerStart = -1;
  private described: TarEntry | null = null;
  /** Set when a header could not be decoded; later bytes are no longer indexed. */
  error: string | null = null;
  /** Set when `decide` refused an entry: nothing after its headers is read. */
  halted: EntryStart | null = null;
  entries = 0;

  /**
   * `decide`, when given, is asked before each entry's data whether to go on; on false the indexer
   * halts at that entry (`halted`), its data unread.
   */
  constructor(
    private readonly onEntry: (e: TarEntry) => void,
    private readonly decide?: (s: EntryStart) => boolean,
  ) {}

  /**
   * Everything before this offset belongs to entries already decided on (or to zero blocks); bytes
   * from here on are headers of an entry not decided yet.
   */
  get settledOffset(): number {
    if (this.halted) return this.halted.entry.offset;
    if (this.entryOffset >= 0 && !this.described) return this.entryOffset;
    if (this.headerFill > 0) return this.headerStart;
    return this.position;
  }

  /** Bytes of the stream read so far. */
  get offset(): number {
    return this.position;
  }

  write(chunk: Buffer): void {
    let pos = 0;
    const start = this.position;
    const at = () => start + pos;
    while (pos < chunk.length && !this.error && !this.halted) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        const piece = chunk.subarray(pos, pos + n);
        this.hash?.update(piece);
        this.meta?.push(piece);
        this.remaining -= n;
        pos += n;
        this.position = at();
        if (this.remaining === 0) this.finishData();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - pos);
        this.padding -= n;
        pos += n;
        this.position = at();
      } else {
        if (this.headerFill === 0) this.headerStart = at();
        const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + n);
        this.headerFill += n;
        pos += n;
        this.position = at();
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.onHeader(at() - BLOCK);
        }
      }
    }
  }

  /** Call at the end of the stream; returns a problem when the stream stopped inside an entry. */
  end(): string | null {
    if (this.error) return this.error;
    if (this.halted) return null;
    if (this.remaining > 0 || this.headerFill > 0 || this.current || this.meta) {
      return `the tar stream ends inside an entry (at byte ${this.position})`;
    }
    return null;
  }

  private onHeader(at: number): void {
    if (isZeroBlock(this.header)) return;
    let raw: RawHeader;
    try {
      raw = decodeHeader(this.header);
    } catch (err) {
      this.error = `byte ${at}: ${(err as Error).message}`;
      return;
    }
    if (this.entryOffset < 0) this.entryOffset = at;
    const flag = raw.typeflag;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (raw.size > MAX_META) {
        this.error = `byte ${at}: a ${flag} header of ${raw.size} bytes is larger than any real name or PAX record`;
        return;
      }
      this.current = { raw, pax: new Map(), offset: at };
      this.meta = [];
      this.startData(raw.size);
      return;
    }
    // Most members have no PAX records at all: no merged map to build then.
    const pax = this.globalPax.size === 0 ? this.pax : new Map([...this.globalPax, ...this.pax]);
    if (pax.has('size')) raw.size = Number(pax.get('size')!.toString('latin1'));
    this.current = { raw, pax, offset: this.entryOffset };
    const size = HEADER_ONLY.has(flag) ? 0 : raw.size;
    this.described = this.describe(raw, pax, this.entryOffset);
    if (this.decide) {
      const dataOffset = at + BLOCK;
      const start: EntryStart = {
        entry: this.described,
        dataOffset,
        endOffset: dataOffset + size + (size % BLOCK ? BLOCK - (size % BLOCK) : 0),
      };
      if (!this.decide(start)) {
        this.halted = start;
        return;
      }
    }
    this.hash = CONTENT_TYPES.has(flag) ? createHash('sha256') : null;
    this.startData(size);
  }

  private describe(raw: RawHeader, pax: PaxRecords, offset: number): TarEntry {
    const name = pax.get('path') ?? this.longName ?? raw.name;
    const link = pax.get('linkpath') ?? this.longLink ?? raw.linkname;
    const num = (key: string, fallback: number): number => {
      const v = pax.get(key);
      return v && /^\d+$/.test(v.toString('latin1')) ? Number(v.toString('latin1')) : fallback;
    };
    return {
      name,
      linkname: link.length ? link : null,
      type: typeName(raw.typeflag),
      size: raw.size,
      // Permission bits only (setuid/setgid/sticky included); the type is in `type`.
      mode: raw.mode & 0o7777,
      uid: num('uid', raw.uid),
      gid: num('gid', raw.gid),
      mtime: isoTime(raw.mtime, pax.get('mtime')),
      sha256: null,
      offset,
    };
  }

  private startData(size: number): void {
    this.remaining = size;
    this.padding = size % BLOCK ? BLOCK - (size % BLOCK) : 0;
    if (size === 0) this.finishData();
  }

  private finishData(): void {
    const cur = this.current!;
    this.current = null;
    if (this.meta) {
      const data = Buffer.concat(this.meta);
      this.meta = null;
      this.applyMeta(cur.raw.typeflag, data, cur.offset);
      return;
    }
    this.onEntry({ ...this.described!, sha256: this.hash ? this.hash.digest('hex') : null });
    this.entries++;
    this.described = null;
    this.hash = null;
    if (this.pax.size) this.pax = new Map();
    this.longName = null;
    this.longLink = null;
    this.entryOffset = -1;
  }

  private applyMeta(flag: string, data: Buffer, at: number): void {
    try {
      if (flag === 'x') parsePax(data, this.pax);
      else if (flag === 'g') parsePax(data, this.globalPax);
      else if (flag === 'L') this.longName = cutNul(data);
      else this.longLink = cutNul(data);
    } catch (err) {
      this.error = `byte ${at}: ${(err as Error).message}`;
    }
  }
}

function cutNul(b: Buffer): Buffer {
  const i = b.indexOf(0);
  return Buffer.from(i < 0 ? b : b.subarray(0, i));
}
