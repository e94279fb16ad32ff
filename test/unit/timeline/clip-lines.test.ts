import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { clipMarker, readLineBatches, readLines } from '../../../src/timeline/lines.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const chunked = (buf: Buffer, size: number): Readable =>
  Readable.from(
    Array.from({ length: Math.ceil(buf.length / size) }, (_, i) =>
      buf.subarray(i * size, (i + 1) * size),
    ),
  );

/** What readLines must give: each line cut to `max` bytes (back to a character boundary) plus the marker. */
function expected(text: string, max: number): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => {
    const b = Buffer.from(l);
    if (b.length <= max) return l;
    let cut = max;
    while (cut > 0 && (b[cut] & 0xc0) === 0x80) cut--;
    return b.subarray(0, cut).toString() + clipMarker(b.length - cut);
  });
}

describe('readLines clips over-long lines, holding at most maxLine bytes of one', () => {
  const text = `short\n${'L'.repeat(10_000)}\nmiddle\n${'€'.repeat(3_000)}😀tail\n\nü${'x'.repeat(99)}\nlast-without-newline-${'y'.repeat(500)}`;
  test.each([
    [1, 64],
    [7, 64],
    [100, 64],
    [4096, 64],
    [1 << 20, 64],
    [3, 101],
    [65_536, 101],
    [13, 1],
    [1 << 20, 100_000],
  ])(
    'chunks of %d bytes, maxLine %d: same lines as the reference, markers exact',
    async (size, max) => {
      expect(await collect(readLines(chunked(Buffer.from(text), size), { maxLine: max }))).toEqual(
        expected(text, max),
      );
    },
  );

  test('the marker counts every byte not shown, with thousands separators', () => {
    expect(clipMarker(559_999_000)).toBe('… [clipped: 559,999,000 bytes not shown]');
  });

  test('onClip names the line in its batch and the bytes cut', async () => {
    const lines: string[][] = [];
    const clips: [number, number][] = [];
    for await (const batch of readLineBatches(
      Readable.from([Buffer.from(`a\n${'B'.repeat(50)}\nc\n`), Buffer.from('D'.repeat(30))]),
      { maxLine: 10, onClip: (i, n) => clips.push([i, n]) },
    ))
      lines.push(batch);
    expect(lines).toEqual([
      ['a', `${'B'.repeat(10)}${clipMarker(40)}`, 'c'],
      [`${'D'.repeat(10)}${clipMarker(20)}`],
    ]);
    expect(clips).toEqual([
      [1, 40],
      [0, 20],
    ]);
  });

  test('a 64 MiB line with no newline, fed in 1 MiB chunks, keeps only maxLine bytes (heap stays small)', async () => {
    const chunk = Buffer.alloc(1 << 20, 0x41);
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('2026-11-28T20:00:00Z first\n');
      for (let i = 0; i < 64; i++) yield chunk;
      yield Buffer.from('\n2026-11-28T20:00:01Z after\n');
    }
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    const out: string[] = [];
    for await (const batch of readLineBatches(Readable.from(source()), { maxLine: 4096 })) {
      peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      out.push(...batch);
    }
    expect(out).toEqual([
      '2026-11-28T20:00:00Z first',
      `${'A'.repeat(4096)}${clipMarker(64 * (1 << 20) - 4096)}`,
      '2026-11-28T20:00:01Z after',
    ]);
    // Not a precise bound (GC timing): a whole-line gather would need ≥ 64 MiB of string.
    expect(peak).toBeLessThan(32 * 1024 * 1024);
  });
});
