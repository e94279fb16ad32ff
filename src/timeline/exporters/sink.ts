import type { Writable } from 'node:stream';

/**
 * Batches small strings into ~256 KiB writes and honours backpressure, so a million events neither
 * flood the stream's buffer nor pay for a million write calls. `add` is synchronous (a batch of
 * events is formatted in one go); `drain` writes out full batches and waits when the stream is full.
 */
export class TextSink {
  private buf: string[] = [];
  private size = 0;
  private static readonly BATCH = 256 * 1024;

  constructor(private readonly out: Writable) {}

  add(s: string): void {
    this.buf.push(s);
    this.size += s.length;
  }

  /** Writes what is gathered once it reaches a batch. */
  async drain(): Promise<void> {
    if (this.size >= TextSink.BATCH) await this.flush();
  }

  async write(s: string): Promise<void> {
    this.add(s);
    await this.drain();
  }

  async flush(): Promise<void> {
    if (!this.buf.length) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          this.out.off('drain', onDrain);
          this.out.off('error', done);
          this.out.off('close', onClose);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = (): void => done();
        const onClose = (): void => done(new Error('output closed'));
        this.out.on('drain', onDrain);
        this.out.on('error', done);
        this.out.on('close', onClose);
      });
    }
  }
}
