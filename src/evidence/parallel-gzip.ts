import os from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { promisify } from 'node:util';

const gzip = promisify(zlib.gzip);

/**
 * Each member compresses this much of the tar stream: big enough that restarting the dictionary
 * costs nothing measurable (< 0.1 % larger than one stream), small enough that a few in flight
 * stay a few tens of MiB.
 */
export const MEMBER_BYTES = 4 << 20;

/** Bytes of each of the samples a chunk is tried on before it is compressed. */
const SAMPLE_BYTES = 8 << 10;
const SAMPLES = 4;
/** A sample that deflates to more than this fraction of itself does not compress: it is stored. */
const STORE_ABOVE = 0.9;

/**
 * Compressions in flight. They run on libuv's thread pool (zlib's asynchronous calls), so across
 * cores; one pool thread is left to the file writes that share the pool (4 threads by default).
 */
function defaultParallel(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(os.availableParallelism(), pool - 1));
}

/**
 * True when none of a few samples spread over `chunk` compresses: random data, or data compressed
 * already (images, archives, encrypted files). Deflating it would take most of the seal's time and
 * save nothing, so it is stored (deflate's stored blocks: still a gzip member every tool reads).
 */
export function incompressible(chunk: Buffer): boolean {
  if (chunk.length < SAMPLE_BYTES * SAMPLES) return false;
  const step = Math.floor((chunk.length - SAMPLE_BYTES) / (SAMPLES - 1));
  for (let i = 0; i < SAMPLES; i++) {
    const sample = chunk.subarray(i * step, i * step + SAMPLE_BYTES);
    if (zlib.deflateRawSync(sample, { level: 1 }).length <= sample.length * STORE_ABOVE)
      return false;
  }
  return true;
}

export interface ParallelGzipOptions {
  level?: number;
  /** Compressions in flight (default: cores, at most the thread pool less one). */
  parallel?: number;
  memberBytes?: number;
}

/**
 * A gzip compressor that uses every core: the input (the tar stream) is cut into contiguous
 * chunks, each compressed on the thread pool into an independent gzip member, and the members are
 * written in input order. Concatenated members are one valid gzip file (RFC 1952 §2.2): `gzip -d`,
 * `gzip -t`, `tar -xz` and Node's gunzip read them as the one stream they decompress to. Chunks
 * that do not compress are stored rather than deflated (see `incompressible`).
 *
 * Memory stays bounded: at most `parallel` chunks are being compressed, and a new chunk is not
 * taken until the oldest is written out (the stream's own backpressure holds the input).
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly parallel: number;
  private readonly memberBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inFlight: Promise<Buffer>[] = [];
  /** Members by how they were written, for tests and the bench. */
  readonly members = { deflated: 0, stored: 0 };

  constructor(o: ParallelGzipOptions = {}) {
    super({ readableHighWaterMark: 1 << 20 });
    this.level = o.level ?? 6;
    this.parallel = Math.max(1, o.parallel ?? defaultParallel());
    this.memberBytes = Math.max(64 << 10, o.memberBytes ?? MEMBER_BYTES);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drain(false).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.drain(true).then(() => cb(), cb);
  }

  /** Starts a member for each whole chunk held (and for the rest at the end), writing out the oldest when full. */
  private async drain(end: boolean): Promise<void> {
    while (this.pendingBytes >= this.memberBytes || (end && this.pendingBytes > 0)) {
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      const take = Math.min(this.memberBytes, all.length);
      const piece = all.subarray(0, take);
      const rest = all.subarray(take);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
      const job = this.member(piece);
      // Awaited in order below; one that fails after the stream was torn down must not surface as
      // an unhandled rejection.
      job.catch(() => undefined);
      this.inFlight.push(job);
      if (this.inFlight.length >= this.parallel) this.push(await this.inFlight.shift()!);
    }
    if (end) while (this.inFlight.length) this.push(await this.inFlight.shift()!);
  }

  private member(piece: Buffer): Promise<Buffer> {
    const store = this.level > 0 && incompressible(piece);
    if (store) this.members.stored++;
    else this.members.deflated++;
    // One output buffer for the whole member: with zlib's default 16 KiB chunks every member took
    // hundreds of thread-pool round trips, each handled on the main thread.
    return gzip(piece, {
      level: store ? 0 : this.level,
      chunkSize: piece.length + (piece.length >> 8) + 1024,
    });
  }
}
