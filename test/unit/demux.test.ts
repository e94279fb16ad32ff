import { describe, expect, test } from '@jest/globals';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FrameDemuxer, frameRouter, type FrameStream } from '../../src/docker/demux.js';

const STREAM_IDS: Record<FrameStream, number> = { stdin: 0, stdout: 1, stderr: 2, system: 3 };

function frame(stream: FrameStream, payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const h = Buffer.alloc(8);
  h[0] = STREAM_IDS[stream];
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

/** Cuts a buffer at the given offsets, to feed the demuxer awkward chunks. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const a of [...at, buf.length]) {
    out.push(buf.subarray(prev, a));
    prev = a;
  }
  return out.filter((b) => b.length > 0);
}

function sink(): { w: Writable; text: () => Buffer } {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      parts.push(c);
      cb();
    },
  });
  return { w, text: () => Buffer.concat(parts) };
}

async function demux(chunks: Buffer[]): Promise<{ stdout: Buffer; stderr: Buffer }> {
  const out = sink();
  const err = sink();
  await pipeline(
    Readable.from(chunks),
    new FrameDemuxer(),
    frameRouter({ stdout: out.w, stderr: err.w }),
  );
  return { stdout: out.text(), stderr: err.text() };
}

const ANSI =
  '2026-01-01T00:00:00.000000001Z \x1b[1;31mERROR\x1b[0m \x1b]0;pwned\x07 \x1b]8;;http://evil/x\x1b\\docs\n';
const two = Buffer.concat([
  frame('stdout', 'hello\n'),
  frame('stderr', 'oops\n'),
  frame('stdout', ANSI),
]);

describe('FrameDemuxer', () => {
  test.each([
    ['whole', [] as number[]],
    ['header split after 1 byte', [1]],
    ['header split after 7 bytes', [7]],
    ['split at every byte', Array.from({ length: two.length - 1 }, (_, i) => i + 1)],
    ['split inside payloads and at frame ends', [10, 14, 20, 27, 40]],
  ])('%s', async (_name, at) => {
    const r = await demux(cut(two, at));
    expect(r.stdout.toString('latin1')).toBe(`hello\n${ANSI}`);
    expect(r.stderr.toString()).toBe('oops\n');
  });

  test('a 1 MB frame passes through in pieces, byte-exact, without being gathered', async () => {
    const big = Buffer.alloc(1024 * 1024 + 3);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const input = Buffer.concat([frame('stdout', big), frame('stderr', 'tail\n')]);
    const d = new FrameDemuxer();
    let pieces = 0;
    let largest = 0;
    d.on('data', (p: { data: Buffer }) => {
      pieces++;
      largest = Math.max(largest, p.data.length);
    });
    const out = sink();
    const err = sink();
    const chunks = cut(
      input,
      Array.from({ length: Math.floor(input.length / 65536) }, (_, i) => (i + 1) * 65536 + 5),
    );
    const src = new PassThrough();
    const done = pipeline(src, d, frameRouter({ stdout: out.w, stderr: err.w }));
    for (const c of chunks) src.write(c);
    src.end();
    await done;
    expect(out.text().equals(big)).toBe(true);
    expect(err.text().toString()).toBe('tail\n');
    expect(pieces).toBeGreaterThan(10);
    expect(largest).toBeLessThanOrEqual(65536 + 5);
    expect(d.bytes.stdout).toBe(big.length);
  });

  test('empty frames are fine', async () => {
    const r = await demux([Buffer.concat([frame('stdout', ''), frame('stdout', 'x')])]);
    expect(r.stdout.toString()).toBe('x');
  });

  test('system (3) and stdin (0) frames go to stderr unless routed elsewhere', async () => {
    const r = await demux([
      Buffer.concat([frame('system', 'engine error\n'), frame('stdin', 'in\n')]),
    ]);
    expect(r.stderr.toString()).toBe('engine error\nin\n');
  });

  test.each([
    ['a truncated payload', frame('stdout', 'hello').subarray(0, 10), /payload bytes missing/],
    [
      'a truncated header',
      Buffer.concat([frame('stdout', 'a'), Buffer.from([1, 0, 0])]),
      /inside a frame header/,
    ],
    [
      'raw TTY output',
      Buffer.from('2026-01-01T00:00:00Z plain tty text\n'),
      /not a multiplexed stream/,
    ],
    ['a bad stream id', Buffer.from([9, 0, 0, 0, 0, 0, 0, 1, 65]), /bad frame header/],
  ])('rejects %s', async (_n, input, msg) => {
    await expect(demux([input])).rejects.toThrow(msg);
  });
});
