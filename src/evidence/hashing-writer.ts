import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { NEW_FILE_FLAGS } from './paths.js';

export interface WriteResult {
  sha256: string;
  bytes: number;
  /** False when the source or the disk failed midway: what reached the disk is kept and hashed. */
  complete: boolean;
  error?: Error;
}

/** Stream buffer size for evidence files: fewer, bigger writes (memory stays a few MiB). */
const HWM = 1 << 20;
const IOV_MAX = 1024;

/** The running hash and count of the bytes the kernel has taken. */
interface Tally {
  hash: Hash;
  bytes: number;
}

/**
 * Writes all of `all` at the file's current offset with writev(2). The buffers are hashed while the
 * kernel writes them (the hash state before is kept): a short write (the disk filled up mid-chunk)
 * or an error rolls the hash back to exactly the bytes the kernel took.
 */
function writeAll(fd: number, all: Buffer[], tally: Tally, cb: (err?: Error | null) => void): void {
  // At most IOV_MAX (1024 on Linux) buffers per call: many tiny chunks can sit behind a slow disk.
  const bufs = all.length > IOV_MAX ? all.slice(0, IOV_MAX) : all;
  const later = all.length > IOV_MAX ? all.slice(IOV_MAX) : [];
  const before = tally.hash.copy();
  let total = 0;
  fs.writev(fd, bufs, null, (err, n) => {
    if (!err && n === total) {
      tally.bytes += n;
      return later.length ? writeAll(fd, later, tally, cb) : cb();
    }
    // Fewer bytes than offered: hash only what reached the file.
    tally.hash = before;
    let left = err ? 0 : n;
    let i = 0;
    for (; i < bufs.length && left >= bufs[i].length; i++) {
      tally.hash.update(bufs[i]);
      left -= bufs[i].length;
    }
    const rest = bufs.slice(i);
    if (left > 0) {
      tally.hash.update(rest[0].subarray(0, left));
      rest[0] = rest[0].subarray(left);
    }
    tally.bytes += err ? 0 : n;
    if (err) return cb(err);
    if (n === 0)
      return cb(
        Object.assign(
          new Error('ENOSPC: no space left on device, write (the kernel took 0 bytes)'),
          { code: 'ENOSPC' },
        ),
      );
    writeAll(fd, [...rest, ...later], tally, cb);
  });
  for (const b of bufs) {
    tally.hash.update(b);
    total += b.length;
  }
}

/**
 * A writable that hashes and counts every byte the kernel accepted into a new file, so the hash and
 * size are of exactly what is on disk (also when the disk fills up midway) and the file is never
 * read back to hash it. A disk error fails the stream (its 'error' event, writeChunk rejects) with
 * the error `describe` makes of it; it is never an unhandled rejection: `done()` reports it.
 */
export class HashingFileWriter {
  readonly stream: Writable;
  private readonly tally: Tally = { hash: createHash('sha256'), bytes: 0 };
  private error?: Error;
  private readonly closed: Promise<void>;
  private result?: WriteResult;

  constructor(
    readonly file: string,
    onBytes?: (total: number) => void,
    describe: (err: Error) => Error = (err) => err,
  ) {
    let fd: number;
    try {
      // Opened synchronously so an existing file or planted symlink fails here, loudly.
      fd = fs.openSync(file, NEW_FILE_FLAGS, 0o644);
    } catch (err) {
      throw describe(err as Error);
    }
    let open = true;
    const closeFd = (cb: (err?: Error | null) => void): void => {
      if (!open) return cb();
      open = false;
      fs.close(fd, (err) => cb(err));
    };
    const tally = this.tally;
    const wrote = (err?: Error | null): Error | null => {
      onBytes?.(tally.bytes);
      return err ? describe(err) : null;
    };
    this.stream = new Writable({
      highWaterMark: HWM,
      write: (chunk: Buffer, _enc, cb) => writeAll(fd, [chunk], tally, (err) => cb(wrote(err))),
      // Chunks buffered behind a slow disk go down in one writev(2).
      writev: (chunks, cb) =>
        writeAll(
          fd,
          chunks.map((c) => c.chunk as Buffer),
          tally,
          (err) => cb(wrote(err)),
        ),
      final: (cb) => closeFd((err) => cb(err ? describe(err) : null)),
      destroy: (err, cb) => closeFd(() => cb(err)),
    });
    // The error is kept for done(); this listener also keeps a piped source's failure from being "unhandled".
    this.stream.on('error', (err) => {
      this.error ??= err;
    });
    this.closed = new Promise((resolve) => this.stream.once('close', () => resolve()));
  }

  /** Waits until the file is flushed and closed (call `stream.end()` first). Never rejects. */
  async done(): Promise<WriteResult> {
    await this.closed;
    this.result ??= {
      sha256: this.tally.hash.digest('hex'),
      bytes: this.tally.bytes,
      complete: !this.error,
      ...(this.error ? { error: this.error } : {}),
    };
    return this.result;
  }

  /**
   * Copies a source into the file; a failing source still leaves its bytes hashed on disk. When the
   * disk fails, the source is destroyed, so an engine response releases its connection.
   */
  async from(source: Readable | string | Buffer): Promise<WriteResult> {
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      this.stream.end(source);
      return this.done();
    }
    let sourceError: Error | undefined;
    source.on('error', (err) => {
      sourceError = err;
      // Close the file with what arrived so far.
      if (!this.stream.destroyed) this.stream.end();
    });
    this.stream.once('error', () => source.destroy());
    source.pipe(this.stream);
    const result = await this.done();
    if (sourceError && result.complete) return { ...result, complete: false, error: sourceError };
    return result;
  }
}
