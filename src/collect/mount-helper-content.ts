import { createHash, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { nsToIso } from '../host/fs-stat.js';
import type { ArtifactHandle } from '../evidence/case-store.js';
import type { ManifestEntry } from '../evidence/types.js';
import { nameFields } from '../util/names.js';
import { writeChunk } from '../util/streams.js';
import type { ContentLimits, MountIndexLine, MountTotals } from './mount-index.js';
import type { MountRecord } from './mount-plan.js';
import type { SectionSink } from './sections.js';
import { END_OF_ARCHIVE, padding, tarHeader, type TarHeaderInput } from './tar-write.js';

const MAX_NAME = 8192;
const MAX_STAT = 512;
const FLUSH_AT = 1 << 20;

/** Opens fs/mounts/<n>.tar for a mount (the action decides its source text). */
export type OpenTar = (m: MountRecord) => Promise<ArtifactHandle>;

interface Stat {
  mode: number;
  size: number;
  dev: string;
  uid: number;
  gid: number;
  inode: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** busybox `stat -c %x`: `2026-12-01 10:25:22.598994127 +0000` as ns since the epoch. */
export function parseStatTime(words: string[]): bigint {
  const [d, t, z] = words;
  const m = /^(\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?$/.exec(t ?? '');
  const zm = /^([+-])(\d\d)(\d\d)$/.exec(z ?? '');
  const ms = Date.parse(`${d}T${m?.[1] ?? ''}Z`);
  if (!m || !zm || Number.isNaN(ms))
    throw new Error(
      `helper stat time not understood: ${JSON.stringify(words.join(' ').slice(0, 60))}`,
    );
  const off = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 3600 + Number(zm[3]) * 60);
  return (BigInt(ms / 1000) - BigInt(off)) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** One `s` section: `%f %s %d %u %g %i %h %t %T %x %y %z`. */
export function parseStatLine(line: string): Stat {
  const w = line.split(' ');
  if (
    w.length !== 18 ||
    !/^[0-9a-f]{1,8}$/.test(w[0]) ||
    !w.slice(1, 7).every((x) => /^\d{1,20}$/.test(x)) ||
    !/^[0-9a-f]{1,8}$/.test(w[7]) ||
    !/^[0-9a-f]{1,8}$/.test(w[8])
  ) {
    throw new Error(`helper stat line not understood: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return {
    mode: parseInt(w[0], 16),
    size: Number(w[1]),
    dev: w[2],
    uid: Number(w[3]),
    gid: Number(w[4]),
    inode: Number(w[5]),
    nlink: Number(w[6]),
    rdevMajor: parseInt(w[7], 16),
    rdevMinor: parseInt(w[8], 16),
    atimeNs: parseStatTime(w.slice(9, 12)),
    mtimeNs: parseStatTime(w.slice(12, 15)),
    ctimeNs: parseStatTime(w.slice(15, 18)),
  };
}

const TYPES: Record<number, string> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o140000: 'socket',
  0o020000: 'character-device',
  0o060000: 'block-device',
};

function bounded(max: number, done: (b: Buffer) => void | Promise<void>): SectionSink {
  const parts: Buffer[] = [];
  let n = 0;
  return {
    write: async (c) => {
      n += c.length;
      if (n > max) throw new Error(`helper section over ${max} bytes`);
      parts.push(c);
    },
    end: async () => done(Buffer.concat(parts)),
  };
}

interface Current {
  m: MountRecord;
  tar: ArtifactHandle;
  mountBytes: Buffer;
  dev?: string;
  offset: number;
  pending: Buffer[];
  pendingBytes: number;
  totals: MountTotals;
}

/**
 * Turns the helper's walk (mount-helper-script.ts) into the same fs/mounts/<n>.tar and
 * fs/mounts-index.jsonl lines the local walk writes. Budgets are enforced here too, whatever the
 * helper sends: content over the room left is cut off and the helper is stopped (`overBudget`).
 */
export class HelperMountContent {
  taken = 0;
  entries = 0;
  /** Set when the helper sent more than it was allowed: the caller stops it. */
  overBudget?: string;
  private lines = '';
  private cur: Current | null = null;
  private name: Buffer | null = null;
  private st: Stat | null = null;
  readonly done = new Map<number, { totals: MountTotals; entry: ManifestEntry }>();
  readonly skipped = new Map<number, string>();

  constructor(
    private readonly index: Writable,
    private readonly limits: ContentLimits,
    private readonly mounts: MountRecord[],
    private readonly openTar: OpenTar,
    private readonly addedAll: (m: MountRecord) => boolean,
    private readonly stop: (why: string) => void,
  ) {}

  /** The OpenSection callback for SectionSplitter. */
  readonly open = async (label: string, size: number): Promise<SectionSink | null> => {
    if (label.startsWith('m.')) {
      if (this.cur) throw new Error('helper started a mount inside another');
      const m = this.mounts.find((x) => x.n === Number(label.slice(2)));
      if (!m) throw new Error(`helper walked a mount it was not asked for (${label})`);
      const tar = await this.openTar(m);
      m.tar = tar.path;
      this.cur = {
        m,
        tar,
        mountBytes: Buffer.from(m.mountPoint),
        offset: 0,
        pending: [],
        pendingBytes: 0,
        totals: { entries: 0, bytes: 0, truncated: 0, cut: [] },
      };
      return null;
    }
    const cur = this.cur;
    if (!cur) throw new Error(`helper sent "${label}" outside a mount`);
    switch (label) {
      case 'skip':
        cur.totals.cut.push(
          `${cur.m.mountPoint}: not walked, the step recorded maxFiles ${this.limits.maxFiles} entries already`,
        );
        await this.finish();
        return null;
      case 'missing':
        this.skipped.set(cur.m.n, `${cur.m.mountPoint} is not there in the container`);
        await this.finish();
        return null;
      case 'end':
        await this.settle();
        await this.finish();
        return null;
      case 'n':
        await this.settle();
        return bounded(MAX_NAME, (b) => {
          if (!(
            b.equals(cur.mountBytes) ||
            (b.subarray(0, cur.mountBytes.length).equals(cur.mountBytes) &&
              b[cur.mountBytes.length] === 0x2f)
          ))
            throw new Error(`helper sent a path outside ${cur.m.mountPoint}`);
          this.name = b;
        });
      case 's':
        return bounded(MAX_STAT, async (b) => {
          if (!this.name) throw new Error('helper sent a stat without a name');
          this.st = parseStatLine(b.toString('latin1'));
          if (cur.dev === undefined) cur.dev = this.st.dev;
          const type = TYPES[this.st.mode & 0o170000] ?? 'unknown';
          // A symlink and a file on this mount's device come with an `l` / `c` section next.
          if (!(type === 'symlink' || (type === 'file' && this.st.dev === cur.dev)))
            await this.settle();
        });
      case 'l':
        if (!this.name || !this.st) throw new Error('helper sent a link text without an entry');
        if (size < 0) {
          await this.settle('link text not read in the helper');
          return null;
        }
        return bounded(MAX_NAME + 1, async (b) => {
          // readlink ends its output with one newline of its own.
          await this.settle(
            undefined,
            b.length && b[b.length - 1] === 0x0a ? b.subarray(0, -1) : b,
          );
        });
      case 'c':
        if (!this.name || !this.st) throw new Error('helper sent content without an entry');
        if (size < 0) {
          await this.settle('not read: unreadable in the helper');
          return null;
        }
        return this.content(cur, size);
      case 'full': {
        await this.settle();
        return bounded(MAX_NAME, (b) => {
          const dir = b.subarray(0, Math.max(b.lastIndexOf(0x2f), 1)).toString('utf8');
          cur.totals.cut.push(
            `${dir}: more entries than maxFiles ${this.limits.maxFiles} in this step; the rest not recorded`,
          );
        });
      }
      default:
        throw new Error(`helper sent an unknown section ${label}`);
    }
  };

  /** Whether the tar being written could not take a write (disk full): the step must fail, not go on. */
  get writeFailed(): boolean {
    return this.index.destroyed || (this.cur?.tar.stream.destroyed ?? false);
  }

  /** Per mount, after the helper is done: what did not end (the helper stopped inside it). */
  async abandon(failure: Error): Promise<void> {
    if (!this.cur) return;
    const cur = this.cur;
    this.cur = null;
    await this.flush(cur).catch(() => undefined);
    await this.flushLines().catch(() => undefined);
    // done() waits for the stream to finish: end it first (what arrived is kept, marked incomplete).
    if (!cur.tar.stream.destroyed) cur.tar.stream.end();
    await cur.tar.done(failure);
    cur.m.collected = cur.totals.entries ? 'partly' : 'no';
    cur.m.why = `${cur.totals.entries ? `partly collected (${cur.totals.entries} entries)` : 'not collected'}: ${failure.message}`;
    Object.assign(cur.m, { files: cur.totals.entries, bytes: cur.totals.bytes });
  }

  async flushLines(): Promise<void> {
    if (!this.lines) return;
    const out = this.lines;
    this.lines = '';
    await writeChunk(this.index, out);
  }

  private async write(cur: Current, b: Buffer): Promise<void> {
    cur.offset += b.length;
    cur.pending.push(b);
    cur.pendingBytes += b.length;
    if (cur.pendingBytes >= FLUSH_AT) await this.flush(cur);
  }

  private async flush(cur: Current): Promise<void> {
    if (!cur.pendingBytes) return;
    const out =
      cur.pending.length === 1 ? cur.pending[0] : Buffer.concat(cur.pending, cur.pendingBytes);
    cur.pending = [];
    cur.pendingBytes = 0;
    await writeChunk(cur.tar.stream, out);
  }

  private async finish(): Promise<void> {
    const cur = this.cur!;
    this.cur = null;
    if (this.skipped.has(cur.m.n)) {
      cur.tar.stream.end();
      await cur.tar.done(new Error(this.skipped.get(cur.m.n)));
      return;
    }
    await this.write(cur, END_OF_ARCHIVE);
    await this.flush(cur);
    await this.flushLines();
    cur.tar.stream.end();
    this.done.set(cur.m.n, { totals: cur.totals, entry: (await cur.tar.done()) as ManifestEntry });
  }

  private base(cur: Current): {
    line: Omit<MountIndexLine, 'mount' | 'offset'>;
    head: Omit<TarHeaderInput, 'type'>;
    type: string;
  } {
    const st = this.st!;
    const name = nameFields(this.name!);
    const type = TYPES[st.mode & 0o170000] ?? 'unknown';
    const line: Omit<MountIndexLine, 'mount' | 'offset'> = {
      path: name.text,
      ...(name.b64 ? { pathB64: name.b64 } : {}),
      type,
      size: st.size,
      taken: 0,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      inode: st.inode,
      nlink: st.nlink,
      atime: nsToIso(st.atimeNs),
      mtime: nsToIso(st.mtimeNs),
      ctime: nsToIso(st.ctimeNs),
      // busybox stat has no birth time.
      birthtime: null,
      sha256: null,
      ...(this.addedAll(cur.m) ? { change: 'added' as const } : {}),
    };
    const head = {
      name: this.name!.subarray(1),
      mode: line.mode,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: Number(st.mtimeNs / 1_000_000_000n),
    };
    return { line, head, type };
  }

  private async record(
    cur: Current,
    h: TarHeaderInput | null,
    line: Omit<MountIndexLine, 'mount' | 'offset'>,
  ): Promise<void> {
    const offset = h ? cur.offset : null;
    if (h) await this.write(cur, tarHeader(h));
    cur.totals.entries++;
    this.entries++;
    this.lines += `${JSON.stringify({ mount: cur.m.n, ...line, offset })}\n`;
    if (this.lines.length >= FLUSH_AT) await this.flushLines();
  }

  /** Records the pending entry (a file's content is recorded by `content`). */
  private async settle(note?: string, linkname?: Buffer): Promise<void> {
    const cur = this.cur;
    if (!cur || !this.name || !this.st) return;
    const { line, head, type } = this.base(cur);
    const st = this.st;
    this.name = null;
    this.st = null;
    if (this.entries >= this.limits.maxFiles)
      throw this.violation(`helper sent more than maxFiles ${this.limits.maxFiles} entries`);
    if (cur.dev !== undefined && st.dev !== cur.dev)
      return this.record(cur, null, {
        ...line,
        note: 'another mount: not crossed (see fs/mounts.json)',
      });
    if (note) return this.record(cur, null, { ...line, note });
    if (type === 'directory') {
      await this.record(cur, { ...head, type: 'directory' }, line);
      const depth = this.depth(cur, line.path);
      if (depth >= this.limits.maxDepth)
        cur.totals.cut.push(
          `${line.path}: deeper than maxDepth ${this.limits.maxDepth}, not walked`,
        );
      return;
    }
    if (type === 'symlink' && linkname) {
      const link = nameFields(linkname);
      return this.record(
        cur,
        { ...head, type: 'symlink', linkname },
        { ...line, linkname: link.text, ...(link.b64 ? { linknameB64: link.b64 } : {}) },
      );
    }
    if (type === 'fifo' || type === 'character-device' || type === 'block-device') {
      const dev = type === 'fifo' ? {} : { devmajor: st.rdevMajor, devminor: st.rdevMinor };
      return this.record(
        cur,
        { ...head, type, ...dev },
        {
          ...line,
          ...(type === 'fifo' ? {} : { rdev: rdevOf(st.rdevMajor, st.rdevMinor) }),
          note: 'special file: recorded, never opened',
        },
      );
    }
    return this.record(cur, null, {
      ...line,
      note: `${type}: tar has no entry type for it; recorded here only, never opened`,
    });
  }

  private depth(cur: Current, p: string): number {
    const rest = p.slice(cur.m.mountPoint.length);
    return rest ? rest.split('/').length - 1 : 0;
  }

  private violation(why: string): Error {
    this.overBudget = why;
    this.stop(why);
    return new Error(why);
  }

  /** A `c` section of `size` bytes: at most the room left goes into the tar, hashed as written. */
  private content(cur: Current, size: number): SectionSink {
    const { line, head } = this.base(cur);
    const st = this.st!;
    this.name = null;
    this.st = null;
    const room = Math.max(
      0,
      Math.min(this.limits.maxFileBytes, this.limits.maxTotalBytes - this.taken),
    );
    const take = Math.min(size, room);
    const hash: Hash = createHash('sha256');
    let offset = -1;
    let got = 0;
    let started = false;
    const start = async (): Promise<void> => {
      if (started) return;
      started = true;
      if (this.entries >= this.limits.maxFiles)
        throw this.violation(`helper sent more than maxFiles ${this.limits.maxFiles} entries`);
      offset = cur.offset;
      await this.write(cur, tarHeader({ ...head, type: 'file', size: take }));
    };
    let recorded = false;
    const record = async (): Promise<void> => {
      if (recorded) return;
      recorded = true;
      await start();
      await this.write(cur, Buffer.alloc(take - got + padding(take)));
      this.taken += got;
      cur.totals.bytes += got;
      const truncated = got < st.size;
      if (truncated) cur.totals.truncated++;
      const why = truncated
        ? `only the first ${got} of ${st.size} bytes taken (${room === this.limits.maxFileBytes ? 'maxFileBytes' : 'maxTotalBytes'})`
        : undefined;
      cur.totals.entries++;
      this.entries++;
      this.lines += `${JSON.stringify({ mount: cur.m.n, ...line, taken: got, ...(truncated ? { truncated: true } : {}), sha256: hash.digest('hex'), offset, ...(why ? { note: why } : {}) })}\n`;
      await this.flushLines();
    };
    return {
      write: async (c) => {
        await start();
        const keep = c.subarray(0, Math.max(0, take - got));
        if (keep.length) {
          hash.update(keep);
          // A copy: the demuxer may reuse the chunk it handed us.
          await this.write(cur, Buffer.from(keep));
          got += keep.length;
        }
        // More than the room left: keep what fits, and stop the helper before it sends the rest.
        if (keep.length < c.length) {
          await record();
          throw this.violation(
            `helper sent ${size} bytes of ${line.path}, over the ${room} bytes left in the budget`,
          );
        }
      },
      end: record,
    };
  }
}

/** glibc's makedev. */
function rdevOf(major: number, minor: number): number {
  return Number(
    ((BigInt(major) & 0xfffn) << 8n) |
      ((BigInt(major) & ~0xfffn) << 32n) |
      (BigInt(minor) & 0xffn) |
      ((BigInt(minor) & ~0xffn) << 12n),
  );
}
