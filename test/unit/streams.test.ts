import { describe, expect, test } from '@jest/globals';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LineSplitter, tee } from '../../src/util/streams.js';

async function lines(
  chunks: string[],
  max?: number,
): Promise<{ lines: string[]; overlong: number }> {
  const s = new LineSplitter(max);
  const out: string[] = [];
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    s,
    new Writable({
      objectMode: true,
      write: (l: Buffer, _e, cb) => (out.push(l.toString()), cb()),
    }),
  );
  return { lines: out, overlong: s.overlong };
}

describe('LineSplitter', () => {
  test.each([
    [['a\nb\n'], ['a', 'b']],
    [
      ['a', 'b\nc', '\n'],
      ['ab', 'c'],
    ],
    [['no newline at end'], ['no newline at end']],
    [['\n\n'], ['', '']],
    [['x\r\n'], ['x\r']],
  ])('%j → %j', async (chunks, want) => expect((await lines(chunks)).lines).toEqual(want));

  test('an overlong line is cut into bounded pieces and counted', async () => {
    const r = await lines(['abcdefghij', 'kl\nok\n'], 5);
    expect(r.lines).toEqual(['abcde', 'fghij', 'kl', 'ok']);
    expect(r.overlong).toBe(2);
  });
});

describe('tee', () => {
  test('copies to every destination and ends them; a failing source still ends them with what arrived', async () => {
    const got: string[][] = [[], []];
    const dests = got.map(
      (g) => new Writable({ write: (c: Buffer, _e, cb) => (g.push(c.toString()), cb()) }),
    );
    const src = new PassThrough();
    const p = tee(src, dests);
    src.write('one ');
    src.write('two');
    await new Promise((r) => setImmediate(r));
    src.destroy(new Error('engine went away'));
    await expect(p).rejects.toThrow('engine went away');
    expect(got.map((g) => g.join(''))).toEqual(['one two', 'one two']);
    expect(dests.every((d) => d.writableEnded)).toBe(true);
  });
});
