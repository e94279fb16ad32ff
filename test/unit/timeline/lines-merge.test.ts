import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { makeEvent, type TimelineEvent } from '../../../src/timeline/event.js';
import { readLines } from '../../../src/timeline/lines.js';
import { mergeStreams } from '../../../src/timeline/merge.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Feeds bytes in awkward chunk sizes, to cut lines and UTF-8 sequences anywhere. */
const chunked = (buf: Buffer, size: number): Readable =>
  Readable.from(
    Array.from({ length: Math.ceil(buf.length / size) }, (_, i) =>
      buf.subarray(i * size, (i + 1) * size),
    ),
  );

describe('readLines', () => {
  const text = 'a\r\n\nü€😀|x\n' + 'L'.repeat(1024 * 1024) + '\nlast';
  test.each([1, 3, 7, 4096, 1 << 20])('chunks of %d bytes give the same lines', async (size) => {
    expect(await collect(readLines(chunked(Buffer.from(text), size)))).toEqual(text.split('\n'));
  });
  test('a trailing newline does not make an empty last line', async () => {
    expect(await collect(readLines(Readable.from([Buffer.from('x\ny\n')])))).toEqual(['x', 'y']);
  });
});

const ev = (us: number, tag: string): TimelineEvent =>
  makeEvent({
    at: { us },
    desc: 'd',
    message: tag,
    source: 's',
    kind: 'k',
    actor: 'container',
    ref: { artifact: tag },
  });

describe('mergeStreams', () => {
  test('merges sync and async inputs in time order; ties keep input order, then stream order', async () => {
    async function* slow(): AsyncGenerator<TimelineEvent[]> {
      yield [ev(1, 'b1')];
      yield [];
      yield [ev(5, 'b5'), ev(5, 'b5bis')];
    }
    const out = await collect(
      mergeStreams([[ev(0, 'a0'), ev(5, 'a5'), ev(9, 'a9')], slow(), [], [ev(5, 'c5')]]),
    );
    expect(out.map((e) => e.message)).toEqual(['a0', 'b1', 'a5', 'b5', 'b5bis', 'c5', 'a9']);
  });

  test('stopping early closes the inputs', async () => {
    let closed = false;
    async function* gen(): AsyncGenerator<TimelineEvent[]> {
      try {
        for (let i = 0; ; i++) yield [ev(i, `g${i}`)];
      } finally {
        closed = true;
      }
    }
    for await (const e of mergeStreams([gen()])) if (e.timestamp === 3) break;
    expect(closed).toBe(true);
  });

  test('stays sorted over many random streams', async () => {
    const streams = Array.from({ length: 12 }, (_, k) =>
      Array.from({ length: 200 }, (_, i) => i * 7 + ((k * 13) % 7)).map((us, i) =>
        ev(us, `${k}:${i}`),
      ),
    );
    const out = await collect(mergeStreams(streams));
    expect(out).toHaveLength(2400);
    for (let i = 1; i < out.length; i++)
      expect(out[i].timestamp).toBeGreaterThanOrEqual(out[i - 1].timestamp);
  });
});

describe('mergeBatches', () => {
  test('yields batches of at most `max`, in order, across batch boundaries of the inputs', async () => {
    const { mergeBatches } = await import('../../../src/timeline/merge.js');
    async function* batched(): AsyncGenerator<TimelineEvent[]> {
      for (let i = 0; i < 10; i += 3)
        yield [ev(i * 2, `x${i}`), ev(i * 2 + 1, `y${i}`), ev(i * 2 + 2, `z${i}`)];
    }
    const batches = await collect(mergeBatches([batched(), [ev(3, 'a'), ev(100, 'b')]], 4));
    expect(batches.map((b) => b.length).every((n) => n <= 4)).toBe(true);
    const flat = batches.flat();
    expect(flat).toHaveLength(14);
    for (let i = 1; i < flat.length; i++)
      expect(flat[i].timestamp).toBeGreaterThanOrEqual(flat[i - 1].timestamp);
  });
});
