import { createHash } from 'node:crypto';
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

/** Writes all of `buf` at the file's current offset, calling `wrote` for every piece the kernel took. */
function writeAll(fd: number, buf: Buffer, wrote: (piece: Buffer) => void, cb: (err?: Error | null) => void): void {
  fs.write(fd, buf, 0, buf.length, null, (err, n) => {
    if (err) return cb(err);
    // A short write (the disk filled up mid-chunk) keeps what the kernel took; the next write says why it stopped.
    wrote(buf.subarray(0, n));
    if (n === buf.length) return cb();
    if (n === 0) return cb(Object.assign(new Error('ENOSPC: no space left on device, write (the kernel took 0 bytes)'), { code: 'ENOSPC' }));
    writeAll(fd, buf.subarray(n), wrote, cb);
  });
}

/**
 * A writable that hashes and counts every byte the kernel accepted into a new file, so the hash and
 * size are of exactly what is on disk (also when the disk fills up midway) and the file is never
 * read back to hash it. A disk error fails the stream (its 'error' event, writeChunk rejects) with
 * the error `describe` makes of it; it is never an unhandled rejection: `done()` reports it.
 */
export class HashingFileWriter {
  readonly stream: Writable;
  private readonly hash = createHash('sha256');
  private bytes = 0;
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
    const wrote = (piece: Buffer): void => {
      this.hash.update(piece);
      this.bytes += piece.length;
      onBytes?.(this.bytes);
    };
    const fail = (err: Error): Error => describe(err);
    this.stream = new Writable({
      highWaterMark: HWM,
      write: (chunk: Buffer, _enc, cb) => writeAll(fd, chunk, wrote, (err) => cb(err ? fail(err) : null)),
      // Chunks buffered behind a slow disk go down in one write(2).
      writev: (chunks, cb) => {
        const buf = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk as Buffer));
        writeAll(fd, buf, wrote, (err) => cb(err ? fail(err) : null));
      },
      final: (cb) => closeFd((err) => cb(err ? fail(err) : null)),
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
      sha256: this.hash.digest('hex'),
      bytes: this.bytes,
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
