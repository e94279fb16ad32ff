import { Transform, Writable, type Readable } from 'node:stream';

/** Writes one chunk and waits for `drain` when the stream asks for it (backpressure without buffering). */
export function writeChunk(stream: Writable, chunk: Buffer | string): Promise<void> {
  // The stream's own error (a full disk) says more than "destroyed".
  if (stream.destroyed)
    return Promise.reject(stream.errored ?? new Error('write to a destroyed stream'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('stream closed while waiting to write'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * Splits a byte stream into lines (without the `\n`), emitted as Buffers in object mode.
 * A line longer than `maxLine` is cut into pieces of `maxLine` bytes and `overlong` is counted,
 * so hostile input cannot make the parser hold an unbounded line.
 */
export class LineSplitter extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Lines that were longer than maxLine. */
  overlong = 0;

  constructor(private readonly maxLine = 1024 * 1024) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.append(chunk.subarray(start, nl));
      this.flushLine();
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
    cb();
  }

  override _flush(cb: (err?: Error | null) => void): void {
    if (this.pendingBytes > 0) this.flushLine();
    cb();
  }

  private append(piece: Buffer): void {
    let rest = piece;
    while (this.pendingBytes + rest.length > this.maxLine) {
      const room = this.maxLine - this.pendingBytes;
      this.pending.push(rest.subarray(0, room));
      this.pendingBytes += room;
      rest = rest.subarray(room);
      this.overlong++;
      this.flushLine();
    }
    if (rest.length) {
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  private flushLine(): void {
    this.push(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * Copies `source` into every destination (backpressure honoured: the slowest sets the pace) and
 * ends them all once the source ends or fails, so whatever arrived is flushed to each. Rejects
 * with the source's error after the destinations are ended.
 */
export function tee(source: Readable, dests: Writable[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      for (const d of dests) {
        source.unpipe(d);
        if (!d.writableEnded) d.end();
      }
      if (err) reject(err);
      else resolve();
    };
    source.once('end', () => finish());
    source.once('error', (err) => finish(err));
    // A response stream that closes without `end` was cut off.
    source.once('close', () =>
      finish(source.readableEnded ? undefined : new Error('the source closed before its end')),
    );
    for (const d of dests) source.pipe(d, { end: false });
  });
}

/** Keeps the first `max` bytes of what it is given and counts the rest (stderr, small /proc texts). */
export class BoundedBuffer {
  private readonly parts: Buffer[] = [];
  /** Every byte offered, kept or not. */
  total = 0;

  constructor(readonly max: number) {}

  add(chunk: Buffer): void {
    if (this.total < this.max) this.parts.push(chunk.subarray(0, this.max - this.total));
    this.total += chunk.length;
  }

  /** True when more than `max` bytes were offered. */
  get cut(): boolean {
    return this.total > this.max;
  }

  text(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }

  /** A writable feeding this buffer. */
  sink(onFinish?: () => void): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.add(chunk);
        cb();
      },
      final: (cb) => {
        onFinish?.();
        cb();
      },
    });
  }
}
