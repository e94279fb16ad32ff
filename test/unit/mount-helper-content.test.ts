import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  HelperMountContent,
  parseStatLine,
  parseStatTime,
} from '../../src/collect/mount-helper-content.js';
import { mountWalkScript, shQuote } from '../../src/collect/mount-helper-script.js';
import type { MountRecord } from '../../src/collect/mount-plan.js';
import { SectionSplitter } from '../../src/collect/sections.js';
import { WALK_LABEL } from '../../src/collect/mount-helper-script.js';
import type { ArtifactHandle } from '../../src/evidence/case-store.js';

const T = '2026-12-01 10:25:22.598994127 +0000';
const stat = (modeHex: string, size: number, dev = '59') =>
  `${modeHex} ${size} ${dev} 0 0 7 1 0 0 ${T} ${T} ${T}`;

function bufSink(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => (parts.push(Buffer.from(c)), cb()) }),
    bytes: () => Buffer.concat(parts),
  };
}

const frame = (label: string, body: string | Buffer = ''): Buffer => {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${label} ${b.length}\n`), b]);
};

function setup(limits = { maxFileBytes: 10, maxTotalBytes: 15, maxFiles: 100, maxDepth: 8 }) {
  const mount = { n: 1, mountPoint: '/dev/shm', kind: 'tmpfs' } as MountRecord;
  const index = bufSink();
  const tars: ReturnType<typeof bufSink>[] = [];
  const stops: string[] = [];
  const c = new HelperMountContent(
    index.stream,
    limits,
    [mount],
    async () => {
      const t = bufSink();
      tars.push(t);
      return {
        path: 'fs/mounts/1.tar',
        stream: t.stream,
        done: async (f?: Error) => ({ complete: !f }),
      } as unknown as ArtifactHandle;
    },
    () => true,
    (why) => stops.push(why),
  );
  const split = new SectionSplitter(c.open, WALK_LABEL);
  // The error reaches the write callback; the stream's own event is not the test's concern.
  split.on('error', () => undefined);
  const feed = async (...parts: Buffer[]) => {
    for (const p of parts)
      await new Promise<void>((res, rej) => split.write(p, (e) => (e ? rej(e) : res())));
  };
  const lines = () =>
    index
      .bytes()
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { c, feed, lines, tars, stops, mount };
}

describe('helper stat output', () => {
  test('busybox times parse to ns with the offset applied', () => {
    expect(parseStatTime(T.split(' '))).toBe(1796120722598994127n);
    expect(parseStatTime('2026-12-01 12:25:22.5 +0200'.split(' '))).toBe(1796120722500000000n);
    expect(() => parseStatTime(['x', 'y', 'z'])).toThrow(/not understood/);
  });
  test('a stat line gives type bits, size, dev; anything else is refused', () => {
    expect(parseStatLine(stat('81a4', 3))).toMatchObject({
      mode: 0o100644,
      size: 3,
      dev: '59',
      inode: 7,
    });
    expect(() => parseStatLine('81a4 3 59')).toThrow(/not understood/);
  });
  test('mount points are quoted for sh whatever they hold', () => {
    expect(shQuote("/a'b $(x)")).toBe(`'/a'\\''b $(x)'`);
    expect(
      mountWalkScript([{ n: 3, mountPoint: "/x'y" }], {
        maxFileBytes: 1,
        maxTotalBytes: 2,
        maxFiles: 3,
        maxDepth: 4,
      }),
    ).toContain(`onemount 3 '/x'\\''y'`);
  });
});

describe('HelperMountContent', () => {
  test('files, links and FIFOs become tar entries and index lines like the local walk writes', async () => {
    const s = setup();
    await s.feed(
      frame('m.1'),
      frame('n', '/dev/shm'),
      frame('s', stat('43ff', 60)),
      frame('n', '/dev/shm/x'),
      frame('s', stat('81ed', 4)),
      frame('c', 'abcd'),
      frame('n', '/dev/shm/l'),
      frame('s', stat('a1ff', 11)),
      frame('l', '/etc/shadow\n'),
      frame('n', '/dev/shm/p'),
      frame('s', stat('11a4', 0)),
      frame('end'),
    );
    const lines = s.lines();
    expect(lines.map((l) => [l.path, l.type, l.offset])).toEqual([
      ['/dev/shm', 'directory', 0],
      ['/dev/shm/x', 'file', 512],
      ['/dev/shm/l', 'symlink', 1536],
      ['/dev/shm/p', 'fifo', 2048],
    ]);
    expect(lines[1]).toMatchObject({
      taken: 4,
      sha256: createHash('sha256').update('abcd').digest('hex'),
      change: 'added',
      mode: 0o755,
    });
    expect(lines[2]).toMatchObject({ linkname: '/etc/shadow', sha256: null });
    const tar = s.tars[0].bytes();
    expect(tar.length).toBe(2560 + 1024);
    expect(tar.subarray(1024, 1028).toString()).toBe('abcd');
    expect(s.c.done.get(1)?.totals).toMatchObject({ entries: 4, bytes: 4 });
  });

  test('a helper that sends more than the budget is cut to it and stopped', async () => {
    const s = setup();
    await expect(
      s.feed(
        frame('m.1'),
        frame('n', '/dev/shm/big'),
        frame('s', stat('81a4', 50)),
        frame('c', 'A'.repeat(50)),
      ),
    ).rejects.toThrow(/over the 10 bytes left/);
    expect(s.stops).toEqual([expect.stringMatching(/over the 10 bytes left/)]);
    expect(s.lines()[0]).toMatchObject({ taken: 10, truncated: true });
    await s.c.abandon(new Error('stopped'));
    expect(s.mount).toMatchObject({ collected: 'partly' });
  });

  test('a path outside the mount is refused', async () => {
    const s = setup();
    await expect(s.feed(frame('m.1'), frame('n', '/etc/shadow'))).rejects.toThrow(
      /outside \/dev\/shm/,
    );
  });
});
