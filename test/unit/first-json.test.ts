import { PassThrough, Readable } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { FirstJsonError, FirstJsonScanner, readFirstJson } from '../../src/app/first-json.js';

/** Feeds the chunks one by one; returns what the scanner made of them (or its error's problem). */
function scan(
  chunks: (string | Buffer)[],
  max = 1024,
): { raw?: string; more?: boolean; problem?: string; fedUntil: number } {
  const s = new FirstJsonScanner(max);
  let n = 0;
  try {
    for (const c of chunks) {
      n++;
      const got = s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
      if (got) return { raw: got.raw.toString(), more: got.more, fedUntil: n };
    }
    throw s.endError();
  } catch (err) {
    if (!(err instanceof FirstJsonError)) throw err;
    return { problem: err.problem, fedUntil: n };
  }
}

describe('the first-object reader', () => {
  test.each([
    ['one chunk', ['{"a":1}'], '{"a":1}'],
    ['split at every byte', [...'{"a":{"b":[1,2]}}'], '{"a":{"b":[1,2]}}'],
    ['leading blanks and a BOM', [Buffer.from([0xef, 0xbb, 0xbf]), ' \n\t', '{"a":1}'], '{"a":1}'],
    ['braces inside strings', ['{"o":"}}}{{", "p":"]"}'], '{"o":"}}}{{", "p":"]"}'],
    ['escaped quotes', ['{"o":"say \\"}\\" now"}'], '{"o":"say \\"}\\" now"}'],
    ['an escaped backslash before the closing quote', ['{"o":"c:\\\\', '"}'], '{"o":"c:\\\\"}'],
    ['an escape split across chunks', ['{"o":"a\\', '"}"}'], '{"o":"a\\"}"}'],
    ['UTF-8 split mid-character', [Buffer.from('{"o":"é'), Buffer.from('"}')], '{"o":"é"}'],
  ])('%s', (_name, chunks, expected) => {
    expect(scan(chunks)).toMatchObject({ raw: expected, more: false });
  });

  test('Given a live stream, the object is complete at its closing brace: later chunks are never needed', () => {
    // The fourth chunk would throw if it were fed (push after done): the reader stops at chunk 3.
    expect(scan(['{"rule":', '"r"', '}\n', '{"rule":"second"}'])).toEqual({
      raw: '{"rule":"r"}',
      more: false,
      fedUntil: 3,
    });
  });

  test('Given a second alert in the same chunk, it is reported as more input, not read', () => {
    expect(scan(['{"a":1}\n{"a":2}\n'])).toMatchObject({ raw: '{"a":1}', more: true });
    expect(scan(['{"a":1}\n  \n'])).toMatchObject({ raw: '{"a":1}', more: false });
  });

  test.each([
    ['empty input', 'empty', []],
    ['blank input', 'empty', ['  \n']],
    ['Falco text output', 'not-object', ['20:17:00.123456789: Notice A shell was spawned']],
    ['garbage bytes', 'not-object', [Buffer.from([0x1b, 0x5d, 0x30, 0x3b, 0x07])]],
    ['an array', 'not-object', ['[{"a":1}]']],
    ['cut short', 'truncated', ['{"rule":"r", "output_fields":{']],
    ['cut short inside a string with a brace', 'truncated', ['{"rule":"}']],
  ])('%s → %s', (_name, problem, chunks) => {
    expect(scan(chunks as string[])).toMatchObject({ problem });
  });

  test('Given an object larger than the budget, it stops with too-large at the budget, not at end of input', () => {
    const r = scan(['{"o":"', 'x'.repeat(600), 'x'.repeat(600), 'never fed'], 1024);
    expect(r).toEqual({ problem: 'too-large', fedUntil: 3 });
    // Blanks count too: an endless stream of newlines is not read forever.
    expect(scan(Array(10).fill(' '.repeat(200)), 1024)).toMatchObject({ problem: 'too-large' });
  });

  test('readFirstJson resolves while the stream stays open, and leaves it paused, not destroyed', async () => {
    const input = new PassThrough();
    const got = readFirstJson(input, 1024);
    input.write('{"a":');
    input.write('"}"}{"b"');
    await expect(got).resolves.toEqual({ raw: Buffer.from('{"a":"}"}'), more: true });
    expect(input.destroyed).toBe(false);
    expect(input.isPaused()).toBe(true);
    expect(input.listenerCount('data')).toBe(0);
    input.end();
  });

  test('readFirstJson on a stream that has already ended says empty at once (no wait for an end that never comes)', async () => {
    const done = Readable.from([]);
    done.resume();
    await new Promise((r) => done.once('end', r));
    await expect(readFirstJson(done, 1024)).rejects.toMatchObject({ problem: 'empty' });
  });

  test('readFirstJson rejects a truncated stream with the truncated problem', async () => {
    await expect(readFirstJson(Readable.from([Buffer.from('{"a":')]), 1024)).rejects.toMatchObject({
      problem: 'truncated',
    });
  });
});
