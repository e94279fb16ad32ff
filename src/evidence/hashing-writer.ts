import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NEW_FILE_FLAGS } from './paths.js';

export interface WriteResult {
  sha256: string;
  bytes: number;
  /** False when the source failed midway: what arrived is kept and hashed. */
  complete: boolean;
  error?: Error;
}

/** Stream buffer size for evidence files: fewer, bigger writes (memory stays a few MiB). */
const HWM = 1 << 20;

/**
 * A writable that hashes and counts every byte on its way to a new file, so the hash is
 * of exactly what is on disk and the file is never read back to hash it.
 */
export class HashingFileWriter {
  readonly stream: Writable;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly finished: Promise<void>;
  private readonly counter: Transform;

  constructor(readonly file: string, onBytes?: (total: number) => void) {
    const hash = this.hash;
    this.counter = new Transform({
      highWaterMark: HWM,
      transform: (chunk: Buffer, _enc, cb) => {
        hash.update(chunk);
        this.bytes += chunk.length;
        onBytes?.(this.bytes);
        cb(null, chunk);
      },
    });
    // Opened synchronously so an existing file or planted symlink fails here, loudly.
    const fd = fs.openSync(file, NEW_FILE_FLAGS, 0o644);
    const out = fs.createWriteStream(file, { fd, highWaterMark: HWM });
    this.finished = pipeline(this.counter, out);
    this.stream = this.counter;
  }

  /** Waits until the file is flushed and closed. */
  async done(): Promise<WriteResult> {
    try {
      await this.finished;
      return { sha256: this.hash.digest('hex'), bytes: this.bytes, complete: true };
    } catch (err) {
      return { sha256: this.hash.digest('hex'), bytes: this.bytes, complete: false, error: err as Error };
    }
  }

  /** Copies a source into the file; a failing source still leaves its bytes hashed on disk. */
  async from(source: Readable | string | Buffer): Promise<WriteResult> {
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      this.stream.end(source);
      return this.done();
    }
    let sourceError: Error | undefined;
    source.on('error', (err) => {
      sourceError = err;
      // Close the file with what arrived so far.
      this.stream.end();
    });
    source.pipe(this.stream);
    const result = await this.done();
    if (sourceError) return { ...result, complete: false, error: sourceError };
    return result;
  }
}
