import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { nsToIso } from '../host/fs-stat.js';
import { ContainerRoot } from '../host/proc-root.js';
import { InterruptedError } from '../errors.js';
import { nameFields } from '../util/names.js';
import { writeChunk } from '../util/streams.js';
import type { ContentLimits, MountIndexLine, MountToWalk, MountTotals } from './mount-index.js';
import { END_OF_ARCHIVE, padding, tarHeader, type TarHeaderInput } from './tar-write.js';

export type { ContentLimits, MountIndexLine, MountToWalk, MountTotals } from './mount-index.js';

/** Linux O_PATH: a handle on the inode itself, which opens nothing (a FIFO or device is not opened by it). */
const O_PATH = 0o10000000;
const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK, O_NOCTTY, O_NOATIME } = fs.constants;
const CHUNK = 1 << 20;
const FLUSH_AT = 1 << 20;

function typeOf(st: fs.BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

/** open(2) with O_NOATIME, without it where the kernel refuses (EPERM: not the owner and no CAP_FOWNER). */
function openNoAtime(p: string, flags: number): number {
  try {
    return fs.openSync(p, flags | O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    return fs.openSync(p, flags);
  }
}

/** Linux's major/minor split of a dev_t (glibc's gnu_dev_major/minor). */
function devNumbers(rdev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

/**
 * Copies the files of mounts into tar artifacts through the host's /proc/<pid>/root, under one
 * budget. Every name is opened relative to its parent directory's fd with O_NOFOLLOW, first as
 * O_PATH (which opens nothing), and only a regular file whose inode is the one lstat saw is then
 * opened for reading: a symlink is recorded as a symlink, a FIFO, socket or device is recorded and
 * never opened, and nothing is read from another mount or from outside the container.
 */
export class MountContent {
  /** Content bytes taken so far by this step (all mounts). */
  taken = 0;
  /** Entries recorded so far by this step (all mounts). */
  entries = 0;
  private lines = '';

  constructor(
    private readonly index: Writable,
    private readonly limits: ContentLimits,
    private readonly signal: AbortSignal,
  ) {}

  /** Walks one mount point into `tar` (ended with the end-of-archive blocks, not closed). */
  async collect(root: ContainerRoot, mount: MountToWalk, tar: Writable): Promise<MountTotals> {
    const w = new Walk(this, root, mount, tar);
    try {
      await w.run();
      await w.write(END_OF_ARCHIVE);
    } catch (err) {
      // What was walked is kept also when the walk stopped: the index must say what the tar holds.
      // (A write that fails here fails again below; the first error is the one that counts.)
      await w.flush().catch(() => undefined);
      await this.flushLines().catch(() => undefined);
      throw err;
    }
    await w.flush();
    await this.flushLines();
    return w.totals;
  }

  /** @internal */
  limit(): ContentLimits {
    return this.limits;
  }

  /** @internal */
  async line(l: MountIndexLine): Promise<void> {
    this.entries++;
    this.lines += `${JSON.stringify(l)}\n`;
    if (this.lines.length >= FLUSH_AT) await this.flushLines();
  }

  /** Index lines go out in batches: one write per line made 10,000 small files take seconds. */
  async flushLines(): Promise<void> {
    if (!this.lines) return;
    const out = this.lines;
    this.lines = '';
    await writeChunk(this.index, out);
  }

  /** @internal */
  checkAbort(): void {
    if (this.signal.aborted)
      throw new InterruptedError('interrupted while collecting mount content');
  }
}

class Walk {
  readonly totals: MountTotals = { entries: 0, bytes: 0, truncated: 0, cut: [] };
  private offset = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dev = -1n;
  private readonly mountBytes: Buffer;

  constructor(
    private readonly c: MountContent,
    private readonly root: ContainerRoot,
    private readonly mount: MountToWalk,
    private readonly tar: Writable,
  ) {
    this.mountBytes = Buffer.from(mount.mountPoint);
  }

  async run(): Promise<void> {
    const lim = this.c.limit();
    if (this.c.entries >= lim.maxFiles) {
      this.totals.cut.push(
        `${this.mount.mountPoint}: not walked, the step recorded maxFiles ${lim.maxFiles} entries already`,
      );
      return;
    }
    const found = this.root.locate(this.mount.mountPoint);
    if (found.length !== 1)
      throw new Error(`${this.mount.mountPoint} is not there in the container`);
    const { dirFd, name } = found[0];
    const pathFd = fs.openSync(ContainerRoot.at(dirFd, name), O_PATH | O_NOFOLLOW);
    try {
      const st = fs.fstatSync(pathFd, { bigint: true });
      this.dev = st.dev;
      await this.entry(pathFd, st, this.mountBytes, 0, ContainerRoot.at(dirFd, name));
    } finally {
      fs.closeSync(pathFd);
    }
  }

  private async emit(
    h: TarHeaderInput | null,
    line: Omit<MountIndexLine, 'mount' | 'offset' | 'change'>,
    st: fs.BigIntStats,
  ): Promise<void> {
    const offset = h ? this.offset : null;
    if (h) await this.write(tarHeader(h));
    this.totals.entries++;
    await this.c.line({ mount: this.mount.n, ...line, offset, ...this.change(st) });
  }

  private change(st: fs.BigIntStats): { change?: 'added' } {
    if (this.mount.allAdded) return { change: 'added' };
    const after = this.mount.addedAfterNs;
    return after !== undefined && st.birthtimeNs > 0n && st.birthtimeNs > after
      ? { change: 'added' }
      : {};
  }

  /** Small pieces (headers, small files, padding) are gathered into one write of up to FLUSH_AT bytes. */
  async write(b: Buffer): Promise<void> {
    this.offset += b.length;
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const out =
      this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await writeChunk(this.tar, out);
  }

  /** Records one entry found by lstat; `pathFd` is its O_PATH handle. */
  private async entry(
    pathFd: number,
    st: fs.BigIntStats,
    abs: Buffer,
    depth: number,
    at: Buffer,
  ): Promise<void> {
    this.c.checkAbort();
    const lim = this.c.limit();
    const name = nameFields(abs);
    const type = typeOf(st);
    const base = {
      path: name.text,
      ...(name.b64 ? { pathB64: name.b64 } : {}),
      type,
      size: Number(st.size),
      taken: 0,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      inode: Number(st.ino),
      nlink: Number(st.nlink),
      atime: nsToIso(st.atimeNs),
      mtime: nsToIso(st.mtimeNs),
      ctime: nsToIso(st.ctimeNs),
      birthtime: st.birthtimeNs > 0n ? nsToIso(st.birthtimeNs) : null,
      sha256: null,
    };
    const tarName = abs.subarray(1);
    const head = {
      name: tarName,
      mode: base.mode,
      uid: base.uid,
      gid: base.gid,
      size: 0,
      mtime: Number(st.mtimeMs / 1000n),
    };
    if (st.dev !== this.dev) {
      // A mount inside this one (e.g. /dev/shm in /dev): it has its own line in fs/mounts.json.
      return this.emit(
        null,
        { ...base, note: 'another mount: not crossed (see fs/mounts.json)' },
        st,
      );
    }
    if (type === 'directory') {
      await this.emit({ ...head, type: 'directory' }, base, st);
      if (depth >= lim.maxDepth) {
        this.totals.cut.push(`${name.text}: deeper than maxDepth ${lim.maxDepth}, not walked`);
        return;
      }
      return this.dir(pathFd, st, abs, depth);
    }
    if (type === 'symlink') {
      // readlink of the name in its parent's fd reads the link's own text; it follows nothing.
      const target = fs.readlinkSync(at, { encoding: 'buffer' });
      const link = nameFields(target);
      return this.emit(
        { ...head, type: 'symlink', linkname: target },
        { ...base, linkname: link.text, ...(link.b64 ? { linknameB64: link.b64 } : {}) },
        st,
      );
    }
    if (type === 'fifo' || type === 'character-device' || type === 'block-device') {
      const rdev = Number(st.rdev);
      return this.emit(
        { ...head, type, ...(type === 'fifo' ? {} : devNumbers(st.rdev)) },
        {
          ...base,
          ...(type === 'fifo' ? {} : { rdev }),
          note: 'special file: recorded, never opened',
        },
        st,
      );
    }
    if (type !== 'file')
      return this.emit(
        null,
        {
          ...base,
          note: `${type}: tar has no entry type for it; recorded here only, never opened`,
        },
        st,
      );
    return this.file(pathFd, st, base, head);
  }

  private async file(
    pathFd: number,
    st: fs.BigIntStats,
    base: Omit<MountIndexLine, 'mount' | 'offset' | 'change'>,
    head: Omit<TarHeaderInput, 'type'>,
  ): Promise<void> {
    const lim = this.c.limit();
    const size = Number(st.size);
    const room = Math.max(0, Math.min(lim.maxFileBytes, lim.maxTotalBytes - this.c.taken));
    const take = Math.min(size, room);
    let fd: number;
    try {
      // Re-opening the O_PATH handle reaches exactly the inode lstat saw (no name is resolved again).
      // O_NOATIME: our read must not move the access time a later look relies on (root may always ask).
      fd = openNoAtime(`/proc/self/fd/${pathFd}`, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    } catch (err) {
      return this.emit(null, { ...base, note: `not read: ${(err as Error).message}` }, st);
    }
    try {
      const now = fs.fstatSync(fd, { bigint: true });
      if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev)
        return this.emit(null, { ...base, note: 'replaced while being collected: not read' }, st);
      const offset = this.offset;
      await this.write(tarHeader({ ...head, type: 'file', size: take }));
      const hash = createHash('sha256');
      let got = 0;
      while (got < take) {
        this.c.checkAbort();
        // A fresh buffer each time: the stream may still hold the one before.
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, take - got));
        const n = fs.readSync(fd, buf, 0, buf.length, got);
        if (n === 0) break;
        const piece = buf.subarray(0, n);
        hash.update(piece);
        got += n;
        await this.write(piece);
      }
      // The file shrank while read: the header promised `take` bytes, so pad; the index says what is real.
      if (got < take) await this.write(Buffer.alloc(take - got));
      await this.write(Buffer.alloc(padding(take)));
      this.c.taken += got;
      this.totals.bytes += got;
      const truncated = got < size;
      if (truncated) this.totals.truncated++;
      const why =
        got < take
          ? `shrank while read: ${got} of ${take} bytes read, the rest of the tar entry is zeros`
          : truncated
            ? `only the first ${got} of ${size} bytes taken (${room === lim.maxFileBytes ? 'maxFileBytes' : 'maxTotalBytes'})`
            : undefined;
      this.totals.entries++;
      await this.c.line({
        mount: this.mount.n,
        ...base,
        taken: got,
        ...(truncated ? { truncated: true } : {}),
        sha256: hash.digest('hex'),
        offset,
        ...this.change(st),
        ...(why ? { note: why } : {}),
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  private async dir(pathFd: number, st: fs.BigIntStats, abs: Buffer, depth: number): Promise<void> {
    const lim = this.c.limit();
    let dfd: number;
    try {
      dfd = fs.openSync(`/proc/self/fd/${pathFd}`, O_RDONLY | O_DIRECTORY);
    } catch (err) {
      this.totals.cut.push(`${abs.toString('utf8')}: not listed (${(err as Error).message})`);
      return;
    }
    let dir: fs.Dir | undefined;
    try {
      const now = fs.fstatSync(dfd, { bigint: true });
      if (now.ino !== st.ino || now.dev !== st.dev) {
        this.totals.cut.push(`${abs.toString('utf8')}: replaced while being collected, not listed`);
        return;
      }
      dir = fs.opendirSync(`/proc/self/fd/${dfd}`, { encoding: 'buffer' as BufferEncoding });
      for (;;) {
        const d = dir.readSync();
        if (!d) break;
        if (this.c.entries >= lim.maxFiles) {
          this.totals.cut.push(
            `${abs.toString('utf8')}: more entries than maxFiles ${lim.maxFiles} in this step; the rest not recorded`,
          );
          return;
        }
        const child = d.name as unknown as Buffer;
        const at = ContainerRoot.at(dfd, child);
        let cfd: number;
        try {
          cfd = fs.openSync(at, O_PATH | O_NOFOLLOW);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          this.totals.cut.push(
            `${Buffer.concat([abs, Buffer.from('/'), child]).toString('utf8')}: ${(err as Error).message}`,
          );
          continue;
        }
        try {
          const cst = fs.fstatSync(cfd, { bigint: true });
          await this.entry(cfd, cst, Buffer.concat([abs, Buffer.from('/'), child]), depth + 1, at);
        } finally {
          fs.closeSync(cfd);
        }
      }
    } finally {
      dir?.closeSync();
      fs.closeSync(dfd);
    }
  }
}
