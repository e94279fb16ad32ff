import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortTime } from '../../src/tui/format.js';
import { MAX_INDEX_LINE, TimelineIndex } from '../../src/tui/data/timeline-index.js';

/** The TUI's timeline screen reads timeline.jsonl itself: a tampered one must not kill it. */
let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cirt-tui-bad-'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

const line = (us: number, message: unknown): string =>
  JSON.stringify({
    id: `x:${us}`,
    datetime: '2026-11-28T20:00:00.000000+00:00',
    timestamp: us,
    timestamp_desc: 'd',
    message,
    source: 'logs',
  });

describe('TimelineIndex on a tampered timeline.jsonl', () => {
  test('a line longer than the index reads is listed as too long; the lines around it, odd values included, still read', async () => {
    const file = join(base, 'timeline.jsonl');
    const out = fs.createWriteStream(file);
    out.write(`${line(1, 'first')}\n`);
    // A line past MAX_INDEX_LINE, streamed to disk (not built as a string).
    out.write(
      '{"id":"x:huge","datetime":"2026-11-28T20:00:00.000000+00:00","timestamp":2,"timestamp_desc":"d","source":"logs","message":"',
    );
    const block = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < MAX_INDEX_LINE / block.length + 4; i++)
      if (!out.write(block)) await once(out, 'drain');
    out.write('"}\n');
    out.write(`${line(3, 'after')}\n${line(1e20, { not: 'text' })}\n`);
    out.end();
    await once(out, 'close');

    const ix = await TimelineIndex.open(file);
    expect(ix.count).toBe(4);
    expect(ix.event(0).message).toBe('first');
    expect(ix.event(1).message).toMatch(/^\(line 2 is [\d,]+ bytes long: too long to show\)$/);
    expect(ix.timestampAt(1)).toBe(2);
    expect(ix.event(2).message).toBe('after');
    // A message that is not text, a time Date cannot hold: shown as empty and `?`, not a crash.
    expect(ix.event(3).message).toBe('');
    expect(shortTime(undefined, ix.timestampAt(3) * 1e6)).toBe('?');
    ix.close();
  });
});
