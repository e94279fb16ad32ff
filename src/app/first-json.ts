/**
 * Reads the first top-level JSON object of a byte stream and stops there. A live alert stream
 * (`falco … | cirt run … --alert -`) never ends, so waiting for end of input would never act:
 * the object is complete when its closing brace (outside any string) arrives.
 */

/** Why no object could be read; each has its own advice (see alert.ts). */
export type FirstJsonProblem =
  /** The input ended (or holds only whitespace) before any value began. */
  | 'empty'
  /** The first non-blank byte does not open a JSON object: text output, an array, … */
  | 'not-object'
  /** The input ended inside the object. */
  | 'truncated'
  /** The object was not complete within the byte budget. */
  | 'too-large';

export class FirstJsonError extends Error {
  constructor(
    readonly problem: FirstJsonProblem,
    message: string,
    /** The first bytes of the input, for the message (the caller sanitises them). */
    readonly head: string,
    readonly bytesRead: number,
  ) {
    super(message);
    this.name = 'FirstJsonError';
  }
}

export interface FirstJson {
  /** The bytes of the object, from its `{` to its `}` inclusive. */
  raw: Buffer;
  /** Something other than whitespace had already arrived after the object (it is not read). */
  more: boolean;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isBlank = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The incremental scanner: feed chunks, it says where the first object ends. It tracks only nesting,
 * strings and escapes (JSON.parse validates the result); all structural bytes are ASCII, and UTF-8
 * continuation bytes are never ASCII, so scanning bytes is exact.
 */
export class FirstJsonScanner {
  private started = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private done = false;
  /** Bytes seen so far, leading blanks included (the budget counts everything read). */
  private seen = 0;
  private head = Buffer.alloc(0);
  private parts: Buffer[] = [];

  constructor(private readonly maxBytes: number) {}

  /** Feeds a chunk; returns the object once complete, else undefined. Throws FirstJsonError. */
  push(chunk: Buffer): FirstJson | undefined {
    if (this.done) throw new Error('FirstJsonScanner: push after the object was complete');
    if (this.head.length < 64) this.head = Buffer.concat([this.head, chunk.subarray(0, 64)]);
    let i = 0;
    let start = 0;
    if (!this.started) {
      // A UTF-8 byte-order mark at the very start is not content (some editors write one).
      if (this.seen === 0 && chunk.subarray(0, 3).equals(BOM)) i = 3;
      while (i < chunk.length && isBlank(chunk[i])) i++;
      if (i === chunk.length) {
        this.count(chunk.length);
        return undefined;
      }
      if (chunk[i] !== OPEN) {
        const what =
          chunk[i] === OPEN_ARRAY ? 'a JSON array, not one alert object' : 'not a JSON object';
        throw new FirstJsonError('not-object', what, this.headText(), this.seen + i);
      }
      this.started = true;
      start = i;
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN || b === OPEN_ARRAY) this.depth++;
      else if (b === CLOSE || b === CLOSE_ARRAY) {
        this.depth--;
        if (this.depth === 0) {
          this.count(i + 1);
          this.done = true;
          this.parts.push(chunk.subarray(start, i + 1));
          const rest = chunk.subarray(i + 1);
          return { raw: Buffer.concat(this.parts), more: rest.some((x) => !isBlank(x)) };
        }
      }
    }
    this.count(chunk.length);
    this.parts.push(chunk.subarray(start));
    return undefined;
  }

  /** The input ended: an error saying why no object came. */
  endError(): FirstJsonError {
    return this.started
      ? new FirstJsonError(
          'truncated',
          `the input ended after ${this.seen} bytes, inside the JSON object`,
          this.headText(),
          this.seen,
        )
      : new FirstJsonError(
          'empty',
          this.seen ? 'only blank input' : 'the input is empty',
          this.headText(),
          this.seen,
        );
  }

  private count(n: number): void {
    this.seen += n;
    if (this.seen > this.maxBytes) {
      throw new FirstJsonError(
        'too-large',
        `no complete JSON object within ${this.maxBytes} bytes`,
        this.headText(),
        this.seen,
      );
    }
  }

  private headText(): string {
    return this.head.subarray(0, 40).toString('utf8');
  }
}

/**
 * Reads `stream` until its first JSON object is complete, then stops reading: the stream is paused
 * and left as it is (stdin stays open; what follows is not consumed by this run).
 */
export function readFirstJson(stream: NodeJS.ReadableStream, maxBytes: number): Promise<FirstJson> {
  const scanner = new FirstJsonScanner(maxBytes);
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.pause();
    };
    const onData = (chunk: Buffer | string): void => {
      try {
        const got = scanner.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        if (got) {
          stop();
          resolve(got);
        }
      } catch (err) {
        stop();
        reject(err);
      }
    };
    const onEnd = (): void => {
      stop();
      reject(scanner.endError());
    };
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    // Already ended (nothing more will come, and 'end' will not fire again): say so now.
    if ((stream as { readableEnded?: boolean }).readableEnded) return reject(scanner.endError());
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}
