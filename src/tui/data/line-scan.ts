import fs from 'node:fs';

type Numbers = Float64Array | Uint16Array;

/** A typed array that grows by doubling (Float64: offsets and µs times fit exactly below 2^53). */
export class Growable<T extends Numbers> {
  private a: T;
  length = 0;

  constructor(private readonly make: (n: number) => T) {
    this.a = make(1024);
  }

  push(v: number): void {
    if (this.length === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }

  at(i: number): number {
    return this.a[i];
  }
}

/** Reads bytes [start, end) of an open file. */
export function readLineBytes(fd: number, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.max(0, end - start));
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * The string value of a `"key":"` field in one JSON line, without parsing the line; undefined when the
 * key is not in this line or the value has escapes (the caller then parses the line properly).
 */
export function scanField(
  buf: Buffer,
  start: number,
  end: number,
  key: Buffer,
): string | undefined {
  const at = buf.indexOf(key, start);
  if (at < 0 || at >= end) return undefined;
  const from = at + key.length;
  const close = buf.indexOf(34, from);
  if (close < 0 || close >= end) return undefined;
  // A backslash means an escape inside the value: leave it to JSON.parse. (Only this value is
  // scanned: indexOf would run on to the end of the chunk for every line.)
  for (let p = from; p < close; p++) if (buf[p] === 92) return undefined;
  return buf.toString('utf8', from, close);
}
