import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { TimelineIndex } from '../../src/tui/data/timeline-index.js';
import { lowerAscii, searchTimeline } from '../../src/tui/data/timeline-search.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tui-search-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('TUI search over raw bytes (issue 12: no string made of the file)', () => {
  test('lowerAscii lowers A–Z only, four bytes at a time, and leaves UTF-8 bytes alone', () => {
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    const words = new Uint32Array(all.buffer, all.byteOffset, 64);
    lowerAscii(words, 64);
    for (let i = 0; i < 256; i++) expect(all[i]).toBe(i >= 0x41 && i <= 0x5a ? i + 0x20 : i);
  });

  test('Given mixed-case hits, one across the end of the first chunk and one in a key only, the matching lines are found', async () => {
    const file = path.join(dir, 'timeline.jsonl');
    // Lines of one length, so the line holding byte 8 MiB (the first chunk's end) is known.
    const line = (i: number, message: string, extra: object = {}): string =>
      JSON.stringify({
        id: `e${String(i).padStart(6, '0')}`,
        timestamp: 1764547200000000 + i,
        timestamp_desc: 't',
        message: message.padEnd(200, '.'),
        source: 'logs',
        ...extra,
      });
    const len = line(0, '').length + 1;
    const CHUNK = 8 << 20;
    const across = Math.floor(CHUNK / len);
    // Where the message starts in its line, and so where in it the needle must sit to straddle CHUNK.
    const msgAt = line(0, '').indexOf('"message":"') + '"message":"'.length;
    const into = CHUNK - across * len - msgAt - 3;
    const lines: string[] = [];
    for (let i = 0; i < 120_000; i++) {
      if (i === 7) lines.push(line(i, 'ran KWorkerD from /tmp'));
      else if (i === across) lines.push(line(i, `${'-'.repeat(into)}kWoRkErD`));
      else if (i === 50_000) lines.push(line(i, 'nothing here', { kworkerd: 1 }));
      else if (i === 90_000) lines.push(line(i, 'again kworkerd ☃'));
      else lines.push(line(i, `line ${i}`));
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    expect(fs.statSync(file).size).toBeGreaterThan(16 << 20);
    const ix = await TimelineIndex.open(file);
    try {
      expect(into).toBeGreaterThan(0);
      expect([...(await searchTimeline(ix, { query: 'kWORKERd', source: null }))]).toEqual([
        7,
        across,
        90_000,
      ]);
      // A non-ASCII needle takes the string path and still finds its line.
      expect([...(await searchTimeline(ix, { query: 'KWORKERD ☃', source: null }))]).toEqual([
        90_000,
      ]);
    } finally {
      ix.close();
    }
  });
});
