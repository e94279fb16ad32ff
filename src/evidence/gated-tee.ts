import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { writeChunk } from '../util/streams.js';
import { indexLine, type IndexLine, type NameMapper } from './diff-writer.js';
import { TarIndexer, type EntryStart, type TarEntry } from './tar-index.js';

/** Why a member is in fs/diff.tar: it is listed in /changes, or it came along with its directory. */
export type Role = 'evidence' | 'context';

/** What to do with one member before its data is read. */
export type MemberDecision =
  | { keep: true; role: Role; change?: 'A' | 'C' }
  /** Stop the response before this member; take up to `take` bytes of its data as a separate prefix. */
  | { keep: false; role: Role; change?: 'A' | 'C'; reason: StopReason; take: number };

export type StopReason = 'file-budget' | 'total-budget' | 'context-budget';

export interface MemberPolicy {
  /** `tarBytes`: the size of the tar artifact if the response stopped before this member. */
  decide(path: Buffer, start: EntryStart, tarBytes: number): MemberDecision;
}

/** Where a clipped member's prefix goes (a hashing artifact). */
export type ClipSink = () => Promise<{
  path: string;
  stream: Writable;
  done(failure?: Error): Promise<{ sha256: string; bytes: number }>;
}>;

export interface GatedResult {
  bytes: number;
  entries: number;
  evidence: number;
  context: number;
  contextBytes: number;
  /** Container paths of every member read whole (kept), in order. */
  seen: Buffer[];
  /** Set when the response was stopped at a member boundary. */
  stop?: {
    reason: StopReason;
    path: Buffer;
    role: Role;
    size: number;
    /** Offset in the tar artifact of the end-of-archive blocks cirt wrote after the kept members (null: nothing was kept). */
    endMarkerOffset: number | null;
    /** The prefix taken of a clipped evidence member. */
    prefix?: { artifact: string | null; bytes: number; sha256: string };
  };
}

/** Two zero blocks: the end-of-archive marker a tar reader expects. */
const END_OF_ARCHIVE = Buffer.alloc(1024);

/**
 * Like TarTee, but asks a policy before each member's data: members are kept byte for byte as the
 * engine sent them, or the response is stopped at a member boundary (bytes so far kept exact,
 * followed by an end-of-archive marker so the artifact stays a valid concatenation of tars). The
 * headers of a member not yet decided are held back (at most a PAX header and a block), never written
 * ahead of the decision.
 */
export class GatedTee {
  private offset = 0;

  constructor(
    private readonly tar: Writable,
    private readonly index: Writable,
    private readonly signal?: AbortSignal,
  ) {}

  get bytes(): number {
    return this.offset;
  }

  async add(
    n: number,
    source: Readable,
    mapName: NameMapper,
    policy: MemberPolicy,
    clip: ClipSink,
    onProblem?: (why: string) => void,
  ): Promise<GatedResult> {
    const base = this.offset;
    const result: GatedResult = {
      bytes: 0,
      entries: 0,
      evidence: 0,
      context: 0,
      contextBytes: 0,
      seen: [],
    };
    let lines = '';
    let current: { path: Buffer; decision: MemberDecision; start: EntryStart } | null = null;
    // Each member's name is mapped for the policy and again for its index line: once is enough.
    let lastName: Buffer | null = null;
    let lastPath: Buffer = Buffer.alloc(0);
    const mapOnce: NameMapper = (name) => {
      if (name !== lastName) {
        lastPath = mapName(name);
        lastName = name;
      }
      return lastPath;
    };
    const indexer = new TarIndexer(
      (e: TarEntry) => {
        const d = current?.decision ?? { keep: true, role: 'evidence' as Role };
        const line: IndexLine = indexLine(e, mapOnce, n, base);
        line.role = d.role;
        if (d.change) line.change = d.change;
        lines += `${JSON.stringify(line)}\n`;
        result.entries++;
        result[d.role]++;
        if (d.role === 'context' && current)
          result.contextBytes += current.start.endOffset - e.offset;
        if (current) result.seen.push(current.path);
        current = null;
      },
      (start) => {
        const path = mapOnce(start.entry.name);
        const decision = policy.decide(path, start, base + start.entry.offset);
        current = { path, decision, start };
        return decision.keep;
      },
    );
    const pending: Buffer[] = [];
    let written = 0;
    const flushTo = async (limit: number): Promise<void> => {
      while (written < limit && pending.length) {
        const head = pending[0];
        const k = Math.min(head.length, limit - written);
        await writeChunk(this.tar, k === head.length ? head : head.subarray(0, k));
        if (k === head.length) pending.shift();
        else pending[0] = head.subarray(k);
        written += k;
        this.offset += k;
      }
    };
    const it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let problem: string | null = null;
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        if (this.signal?.aborted) throw new Error('interrupted while copying an archive');
        const chunk = next.value;
        pending.push(chunk);
        indexer.write(chunk);
        if (indexer.error && !problem) {
          problem = indexer.error;
          onProblem?.(problem);
        }
        // An archive we cannot parse is kept as it came: nothing is held back any more.
        await flushTo(indexer.error ? Number.MAX_SAFE_INTEGER : indexer.settledOffset);
        if (lines) {
          const out = lines;
          lines = '';
          await writeChunk(this.index, out);
        }
        if (indexer.halted) break;
      }
      const halted = indexer.halted as EntryStart | null;
      if (!halted) {
        await flushTo(Number.MAX_SAFE_INTEGER);
        const endProblem = indexer.end();
        if (endProblem && !problem) onProblem?.(endProblem);
        result.bytes = this.offset - base;
        return result;
      }
      // Stopped before `halted`: the members before it stay exact; its headers are not written.
      const cur = current as unknown as {
        path: Buffer;
        decision: Extract<MemberDecision, { keep: false }>;
        start: EntryStart;
      };
      await flushTo(halted.entry.offset);
      let skip = halted.dataOffset - written;
      while (skip > 0 && pending.length) {
        const k = Math.min(skip, pending[0].length);
        pending[0] = pending[0].subarray(k);
        if (!pending[0].length) pending.shift();
        skip -= k;
      }
      const stop: NonNullable<GatedResult['stop']> = {
        reason: cur.decision.reason,
        path: cur.path,
        role: cur.decision.role,
        size: halted.entry.size,
        endMarkerOffset: null,
      };
      if (written > 0) {
        stop.endMarkerOffset = this.offset;
        await writeChunk(this.tar, END_OF_ARCHIVE);
        this.offset += END_OF_ARCHIVE.length;
      }
      if (cur.decision.role === 'evidence') {
        stop.prefix = await this.takePrefix(
          pending,
          it,
          Math.min(cur.decision.take, halted.entry.size),
          clip,
        );
        const line: IndexLine = {
          ...indexLine({ ...halted.entry, sha256: null }, mapName, n, base),
          offset: null,
          role: 'evidence',
          ...(cur.decision.change ? { change: cur.decision.change } : {}),
          clipped: { reason: cur.decision.reason, ...stop.prefix },
        };
        await writeChunk(this.index, `${JSON.stringify(line)}\n`);
      }
      result.stop = stop;
      result.bytes = this.offset - base;
      return result;
    } finally {
      // A stopped response is not read to its end (a sparse 1 TiB file would take hours): close it.
      if (indexer.halted) source.destroy();
    }
  }

  /** Copies up to `take` bytes of the halted member's data (what is pending first) into a prefix artifact. */
  private async takePrefix(
    pending: Buffer[],
    it: AsyncIterator<Buffer>,
    take: number,
    clip: ClipSink,
  ): Promise<{ artifact: string | null; bytes: number; sha256: string }> {
    if (take <= 0) return { artifact: null, bytes: 0, sha256: createHash('sha256').digest('hex') };
    const sink = await clip();
    let left = take;
    let failure: Error | undefined;
    try {
      for (const b of pending) {
        if (left <= 0) break;
        const piece = b.subarray(0, left);
        await writeChunk(sink.stream, piece);
        left -= piece.length;
      }
      while (left > 0) {
        if (this.signal?.aborted) throw new Error('interrupted while copying a prefix');
        const next = await it.next();
        if (next.done) break;
        const piece = next.value.subarray(0, left);
        await writeChunk(sink.stream, piece);
        left -= piece.length;
      }
    } catch (err) {
      failure = err as Error;
    }
    sink.stream.end();
    const e = await sink.done(failure);
    if (failure) throw failure;
    return { artifact: sink.path, bytes: e.bytes, sha256: e.sha256 };
  }
}
