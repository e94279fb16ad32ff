import type { Readable, Writable } from 'node:stream';
import { nameFields } from '../util/names.js';
import { writeChunk } from '../util/streams.js';
import { TarIndexer, type TarEntry } from './tar-index.js';

/** One line of fs/diff-index.jsonl or fs/export-index.jsonl (evidence-formats.md). */
export interface IndexLine {
  path: string;
  pathB64?: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: string | null;
  linkname: string | null;
  linknameB64?: string;
  sha256: string | null;
  /** Which archive request (fs/diff-requests.json `n`) the entry came from. */
  request: number;
  /** Byte offset of the entry's first header in the tar artifact; null for a clipped member (not in the tar). */
  offset: number | null;
  /** fs/diff.tar only: `evidence` (listed in /changes) or `context` (came along with its directory). */
  role?: 'evidence' | 'context';
  /** The /changes kind of an evidence member: A added, C changed. */
  change?: 'A' | 'C';
  /** A member over a budget: not in the tar; `size` is its real size, this is the prefix taken. */
  clipped?: { reason: string; artifact: string | null; bytes: number; sha256: string };
}

/** One archive request as recorded in fs/diff-requests.json. */
export interface RequestRecord {
  n: number;
  path: string;
  pathB64?: string;
  /** Where this response's bytes start in fs/diff.tar, and how many there are. */
  offset: number;
  bytes: number;
  entries: number;
  status: 'ok' | 'empty' | 'missing' | 'failed' | 'cut' | 'skipped' | 'not-collected';
  error?: string;
  /** `path`: the changed path itself; `directory`: its parent, fetched once for many changed children. */
  kind?: 'path' | 'directory';
  /** Members listed in /changes (evidence) and members that came along (context), and the context's tar bytes. */
  evidence?: number;
  context?: number;
  contextBytes?: number;
  /** The request whose cut made this one necessary. */
  retryOf?: number;
  /** A response stopped at a member boundary (status `cut`): why, before which member, and cirt's end-of-archive marker. */
  stop?: {
    reason: string;
    member: string;
    memberB64?: string;
    role: 'evidence' | 'context';
    size: number;
    endMarkerOffset: number | null;
    prefix?: { artifact: string | null; bytes: number; sha256: string };
  };
}

/** Maps a tar entry name to the absolute container path it stands for. */
export type NameMapper = (name: Buffer) => Buffer;

/** Builds an index line from a parsed entry. */
export function indexLine(
  e: TarEntry,
  mapName: NameMapper,
  request: number,
  base: number,
): IndexLine {
  const name = nameFields(mapName(e.name));
  const link = e.linkname ? nameFields(e.linkname) : null;
  // Built field by field (no conditional spreads: they were a third of indexing 10,000 members);
  // the key order is the format's (evidence-formats.md), so lines stay byte-identical.
  const line = { path: name.text } as IndexLine;
  if (name.b64) line.pathB64 = name.b64;
  line.type = e.type;
  line.size = e.size;
  line.mode = e.mode;
  line.uid = e.uid;
  line.gid = e.gid;
  line.mtime = e.mtime;
  line.linkname = link?.text ?? null;
  if (link?.b64) line.linknameB64 = link.b64;
  line.sha256 = e.sha256;
  line.request = request;
  line.offset = base + e.offset;
  return line;
}

/**
 * Streams tar responses one after the other into one tar artifact, bytes untouched, while an
 * indexer reads the same chunks and writes one JSON line per entry. Backpressure comes from
 * the artifact: a slow disk slows the reads from the engine, nothing piles up in memory.
 */
export class TarTee {
  private offset = 0;

  constructor(
    private readonly tar: Writable,
    private readonly index: Writable,
    private readonly signal?: AbortSignal,
  ) {}

  /** Total bytes written to the tar artifact so far. */
  get bytes(): number {
    return this.offset;
  }

  /**
   * Copies one response; `mapName` turns its entry names into container paths. Throws with what arrived kept when the
   * response fails midway; `onProblem` receives an indexing problem (the bytes are still kept).
   */
  async add(
    n: number,
    source: Readable,
    mapName: NameMapper,
    onProblem?: (why: string) => void,
  ): Promise<{ bytes: number; entries: number }> {
    const base = this.offset;
    let lines = '';
    const indexer = new TarIndexer((e) => {
      lines += `${JSON.stringify(indexLine(e, mapName, n, base))}\n`;
    });
    let problem: string | null = null;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (this.signal?.aborted) throw new Error('interrupted while copying an archive');
      indexer.write(chunk);
      if (indexer.error && !problem) {
        problem = indexer.error;
        onProblem?.(problem);
      }
      this.offset += chunk.length;
      await writeChunk(this.tar, chunk);
      if (lines) {
        const out = lines;
        lines = '';
        await writeChunk(this.index, out);
      }
    }
    const endProblem = indexer.end();
    if (endProblem && !problem) onProblem?.(endProblem);
    return { bytes: this.offset - base, entries: indexer.entries };
  }
}
