import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildTimeline } from '../../../src/timeline/build.js';
import type { TimelineEvent } from '../../../src/timeline/event.js';
import { escapeBodyName, unescapeBodyName } from '../../../src/timeline/exporters/bodyfile.js';
import { CSV_COLUMNS } from '../../../src/timeline/exporters/csv.js';
import { openCaseSource } from '../../../src/evidence/case-source.js';
import { writeTimeline } from '../../../src/timeline/write.js';
import {
  compromisedCase,
  HOSTILE_LOG,
  HOSTILE_NAME,
  writeCase,
} from '../../fixtures/case-folder.js';
import {
  csvObjects,
  parseBodyfile,
  parseCsv,
  timesketchProblems,
} from '../../helpers/timesketch.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

let dir: string;
let jsonl: string;
let csv: string;
let body: string;
let events: TimelineEvent[];

beforeAll(async () => {
  dir = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-fmt-')), compromisedCase());
  const built = await buildTimeline(await openCaseSource(dir));
  const [j, c, b] = [sink(), sink(), sink()];
  await writeTimeline(built.batches, { jsonl: j.stream, csv: c.stream, bodyfile: b.stream });
  [jsonl, csv, body] = [j.text(), c.text(), b.text()];
  events = jsonl
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as TimelineEvent);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('timeline.jsonl', () => {
  test('every line passes the Timesketch checker, sorted by time, ids unique', () => {
    expect(events.length).toBeGreaterThan(50);
    for (const e of events) expect(timesketchProblems(e as never)).toEqual([]);
    for (let i = 1; i < events.length; i++)
      expect(events[i].timestamp).toBeGreaterThanOrEqual(events[i - 1].timestamp);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });
  test('no raw control character reaches a line (JSON escapes them)', () => {
    for (const line of jsonl.trimEnd().split('\n')) expect(line).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe('timeline.csv (Timesketch, RFC 4180)', () => {
  test('header: the required columns first', () => {
    expect(parseCsv(csv)[0]).toEqual([...CSV_COLUMNS]);
    expect(CSV_COLUMNS.slice(0, 4)).toEqual(['message', 'datetime', 'timestamp_desc', 'timestamp']);
  });
  test('every row passes the Timesketch checker', () => {
    const rows = csvObjects(csv);
    expect(rows).toHaveLength(events.length);
    for (const r of rows) expect(timesketchProblems(r)).toEqual([]);
  });
  test('hostile text round-trips exactly: newlines, |, commas, quotes, ANSI/OSC escapes', () => {
    const rows = csvObjects(csv);
    rows.forEach((r, i) => {
      expect(r.message).toBe(events[i].message);
      expect(r.id).toBe(events[i].id);
      expect(JSON.parse(r.attrs)).toEqual(events[i].attrs);
    });
    expect(rows.some((r) => r.message === HOSTILE_LOG)).toBe(true);
    expect(
      rows.some((r) => JSON.parse(r.attrs).path === HOSTILE_NAME && r.message.includes('\n')),
    ).toBe(true);
  });
});

describe('bodyfile (mactime -b)', () => {
  test.each([
    ['plain', '/usr/bin/x'],
    ['pipe', 'a|b'],
    ['newline', 'a\nb'],
    ['backslash next to escapes', '\\x7c\\n|'],
    ['controls', '\u0000\u0007\u001b[31m\u007f\u009b\t\r'],
    ['unicode', 'ü€😀'],
    ['hostile', HOSTILE_NAME],
  ])('escaping round-trips: %s', (_label, name) => {
    const esc = escapeBodyName(name);

    expect(esc).not.toMatch(/[|\n\r\u0000-\u001f\u007f-\u009f]/);
    expect(unescapeBodyName(esc)).toBe(name);
  });

  test('one line per changed path, 11 fields, names and times back', () => {
    const rows = parseBodyfile(body, unescapeBodyName);
    const names = rows.map((r) => r.name);
    expect(names).toContain(HOSTILE_NAME);
    expect(names).toContain('/etc/motd (deleted)');
    const k = rows.find((r) => r.name === '/tmp/.cache/kworkerd')!;
    expect(k).toMatchObject({ inode: '4242', mode: '-rwxr-xr-x', size: 134 });
    const t = Math.floor(Date.UTC(2026, 10, 28, 20, 0, 1) / 1000);
    expect([k.atime, k.mtime, k.ctime, k.crtime]).toEqual([t, t, t, t]);
    expect(rows.find((r) => r.name === '/usr/bin/helper')?.mode).toBe('-rwsr-xr-x');
  });

  test('mactime -b reads it and lists the dropper and the hostile name (escaped)', async () => {
    const file = join(dir, 'bodyfile.txt');
    await writeFile(file, body);
    const out = execFileSync('mactime', ['-b', file, '-z', 'UTC', '-y'], { encoding: 'utf8' });
    expect(out).toMatch(/\s134 macb -rwxr-xr-x 0\s+0\s+4242\s+\/tmp\/\.cache\/kworkerd\n/);
    expect(out).toContain(escapeBodyName(HOSTILE_NAME));

    expect(out).not.toMatch(/[\u001b\u0007]/);
  });
});
