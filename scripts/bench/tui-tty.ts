import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

/**
 * A terminal for Ink without a terminal: stdout records each frame with the time it was written,
 * stdin accepts key presses the way a TTY delivers them (readable + read()).
 */
export class BenchStdout extends EventEmitter {
  readonly isTTY = true;
  frames: { at: number; text: string }[] = [];
  private waiters: { test: (s: string) => boolean; resolve: (at: number) => void }[] = [];

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }

  write(chunk: string | Uint8Array): boolean {
    const at = performance.now();
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    this.frames.push({ at, text });
    if (this.frames.length > 50) this.frames.shift();
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(text)) return true;
      w.resolve(at);
      return false;
    });
    return true;
  }

  /** Resolves with the time of the first write (from now on) whose text passes `test`. */
  next(test: (s: string) => boolean, timeoutMs = 10_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no frame within ${timeoutMs} ms; last: ${this.frames.at(-1)?.text.slice(-400)}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

export class BenchStdin extends EventEmitter {
  readonly isTTY = true;
  private queue: string[] = [];

  press(keys: string): void {
    this.queue.push(keys);
    this.emit('readable');
  }

  read(): string | null {
    return this.queue.shift() ?? null;
  }

  setEncoding(): this {
    return this;
  }

  setRawMode(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  resume(): this {
    return this;
  }

  pause(): this {
    return this;
  }
}
