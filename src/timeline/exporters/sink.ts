import type { Writable } from 'node:stream';
import { writeChunk } from '../../util/streams.js';

const CHUNK = 256 * 1024;

/**
 * Encodes small strings straight into ~256 KiB buffers and writes those, honouring backpressure.
 * Strings die as soon as they are encoded (no batch of pieces to join), which keeps a million
 * events' worth of text out of the old generation. `add` is synchronous (a batch of events is
 * formatted in one go); `drain` writes out full chunks and waits when the stream is full.
 */
export class TextSink {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private pending: Buffer[] = [];

  constructor(private readonly out: Writable) {}

  add(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: a string that may not fit closes the chunk.
    if (this.pos + s.length * 3 > CHUNK) {
      this.cut();
      if (s.length * 3 > CHUNK) {
        this.pending.push(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private cut(): void {
    if (!this.pos) return;
    // The stream keeps the buffer it was given: hand over this one, start a fresh one.
    this.pending.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
  }

  /** Writes the completed chunks, waiting while the stream is full. */
  async drain(): Promise<void> {
    const chunks = this.pending;
    this.pending = [];
    for (const c of chunks) await writeChunk(this.out, c);
  }

  async write(s: string): Promise<void> {
    this.add(s);
    await this.drain();
  }

  /** Writes everything, including a partly filled chunk. */
  async flush(): Promise<void> {
    this.cut();
    await this.drain();
  }
}
