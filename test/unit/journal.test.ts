import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { eventKey, mergeHistory } from '../../src/journal/case-history.js';
import { EventFeed } from '../../src/journal/feed.js';
import { containerIds, queryJournal } from '../../src/journal/query.js';
import { decodeLine, GENESIS } from '../../src/journal/record.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { JournalWriter, type WriterOptions } from '../../src/journal/writer.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import { runCli } from '../helpers/run-cli.js';

const key = generateKeyPairSync('ed25519').privateKey;
let dir: string;
let clock: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-journal-unit-'));
  clock = Date.parse('2026-05-01T10:00:00Z');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const open = (o: Partial<WriterOptions> = {}): JournalWriter => {
  const w = JournalWriter.open({ dir, key, now: () => clock, ...o });
  w.start({ engine: 'test' });
  return w;
};

/** An engine event line as the engine writes it (timeNano is a JSON number beyond 2^53). */
const ev = (n: number, action = 'kill', id = 'c'.repeat(64)): string =>
  `{"status":"${action}","id":"${id}","from":"img","Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":{"name":"busy"}},"scope":"local","time":${1777629600 + n},"timeNano":${BigInt(1777629600 + n) * 1_000_000_000n + 123456789n}}`;

const appendEvents = (w: JournalWriter, count: number, from = 0): void => {
  for (let i = from; i < from + count; i++) {
    clock += 1000;
    w.append('engine:event', { container: 'c'.repeat(64), ns: String(i), raw: ev(i) });
  }
};

const segments = (): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => /^\d{6}\.jsonl$/.test(f))
    .sort();

describe('journal chain', () => {
  test('each line hashes as custody does: sed strips the hash, sha256sum gives it back', () => {
    const w = open();
    appendEvents(w, 3);
    w.close();
    const text = fs.readFileSync(path.join(dir, '000001.jsonl'), 'utf8');
    let prev = GENESIS;
    for (const line of text.trimEnd().split('\n')) {
      const body = line.replace(/,"hash":"[0-9a-f]*"\}$/, '}');
      const hash = createHash('sha256').update(body).digest('hex');
      expect(line.endsWith(`,"hash":"${hash}"}`)).toBe(true);
      const rec = decodeLine(line);
      if (typeof rec === 'string') throw new Error(rec);
      expect(rec.prevHash).toBe(prev);
      prev = hash;
    }
    expect(verifyJournal(dir)).toMatchObject({ ok: true, segments: 1, sealed: 1, records: 6 });
  });

  test('segments rotate by size and by age, each sealed, the chain running across them', () => {
    const w = open({ segmentBytes: 2000, segmentMaxAgeMs: 60_000 });
    appendEvents(w, 12);
    const bySize = segments().length;
    expect(bySize).toBeGreaterThan(2);
    clock += 61_000;
    w.tick();
    expect(segments().length).toBe(bySize + 1);
    // A quiet segment (only its opening record) is not rotated again and again.
    clock += 61_000;
    w.tick();
    expect(segments().length).toBe(bySize + 1);
    w.close();
    const r = verifyJournal(dir);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, sealed: bySize + 1 });
    for (const s of segments())
      expect(fs.existsSync(path.join(dir, s.replace('.jsonl', '.SHA256SUMS.sig')))).toBe(true);
  });

  test('a reopened journal continues the chain; a second writer is refused', () => {
    const w = open();
    appendEvents(w, 2);
    expect(() => JournalWriter.open({ dir, key })).toThrow(/being written by another recorder/);
    w.close();
    const again = open();
    expect(again.resumed.unclean).toBe(false);
    expect(again.resumed.last?.kind).toBe('journal:stop');
    appendEvents(again, 2, 2);
    again.close();
    expect(verifyJournal(dir)).toMatchObject({ ok: true, segments: 2 });
  });
});

describe('journal verify names what is wrong', () => {
  const build = (): void => {
    const w = open({ segmentBytes: 1500 });
    appendEvents(w, 10);
    w.close();
  };

  test('an edited record: its segment, line and seq, and the broken seal', async () => {
    build();
    const file = path.join(dir, '000002.jsonl');
    const text = fs.readFileSync(file, 'utf8').split('\n');
    text[1] = text[1].replace('kill', 'stop');
    fs.writeFileSync(file, text.join('\n'));
    const r = verifyJournal(dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          segment: '000002.jsonl',
          line: 2,
          message: expect.stringMatching(/edited/),
        }),
        expect.objectContaining({
          segment: '000002.jsonl',
          message: expect.stringMatching(/does not match/),
        }),
      ]),
    );
    const cli = await runCli(['journal', 'verify', dir]);
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(/000002\.jsonl line 2/);
  });

  test('a missing segment in the middle, and a missing oldest one', () => {
    build();
    expect(segments().length).toBeGreaterThan(3);
    fs.rmSync(path.join(dir, '000002.jsonl'));
    let r = verifyJournal(dir);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          segment: '000002.jsonl',
          message: expect.stringMatching(/missing/),
        }),
      ]),
    );
    fs.rmSync(path.join(dir, '000001.jsonl'));
    r = verifyJournal(dir);
    expect(r.problems.map((p) => p.segment)).toEqual(expect.arrayContaining(['000002.jsonl']));
    expect(r.ok).toBe(false);
  });

  test('a partial last line is named', () => {
    build();
    const last = segments().at(-1)!;
    fs.appendFileSync(path.join(dir, last), '{"seq":99,"ti');
    const r = verifyJournal(dir);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          segment: last,
          message: expect.stringMatching(/partial record/),
        }),
      ]),
    );
  });
});

describe('retention', () => {
  test('by bytes: the oldest segments go first, the drop is recorded, the journal still verifies', () => {
    const w = open({ segmentBytes: 1500, retention: { maxBytes: 6000 } });
    appendEvents(w, 30);
    w.close();
    const left = segments();
    expect(left[0]).not.toBe('000001.jsonl');
    const r = verifyJournal(dir);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    // The drop of the segment just before the oldest one left is on record, with the hash it ended on.
    const before = `${String(Number(left[0].slice(0, 6)) - 1).padStart(6, '0')}.jsonl`;
    expect(r.dropped).toContain(before);
    const drops = [...queryJournal(dir, {})].filter((l) => l.rec.kind === 'retention:dropped');
    const named = drops.flatMap((d) => d.rec.segments as { segment: string; lastHash: string }[]);
    expect(named).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          segment: before,
          lastHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        }),
      ]),
    );
    const total = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThan(6000 + 2000);
  });

  test('by age: sealed segments whose last record is older than the bound are dropped', () => {
    const w = open({ segmentBytes: 1500, retention: { maxAgeMs: 5_000 } });
    appendEvents(w, 3);
    clock += 60_000;
    appendEvents(w, 6, 3);
    w.close();
    expect(segments()).not.toContain('000001.jsonl');
    expect(verifyJournal(dir)).toMatchObject({ ok: true });
  });
});

describe('query and the case merge', () => {
  test('containers by id, prefix or name; time window', () => {
    const w = open();
    appendEvents(w, 3);
    w.append('engine:event', { container: 'd'.repeat(64), raw: ev(9, 'start', 'd'.repeat(64)) });
    w.close();
    expect([...containerIds(dir, 'busy')]).toEqual(['c'.repeat(64), 'd'.repeat(64)]);
    expect([...containerIds(dir, 'ccc')]).toEqual(['c'.repeat(64)]);
    const only = [...queryJournal(dir, { ids: new Set(['d'.repeat(64)]) })];
    expect(only.filter((l) => l.rec.kind === 'engine:event')).toHaveLength(1);
    const windowed = [...queryJournal(dir, { sinceMs: clock - 1500, untilMs: clock + 10 })].filter(
      (l) => l.rec.kind === 'engine:event',
    );
    expect(windowed.length).toBeGreaterThan(0);
    expect(windowed.length).toBeLessThan(4);
  });

  test('the engine buffer fills in what the journal lacks, in time order, without duplicates', () => {
    const journal = [ev(3), ev(4), ev(6)];
    const engine = [ev(1), ev(4), ev(5), ev(6)];
    const keys = new Set(journal.map(eventKey));
    expect([...mergeHistory(journal, engine, keys)]).toEqual([ev(1), ev(3), ev(4), ev(5), ev(6)]);
  });
});

describe('event feed', () => {
  test('a lost stream is reconnected from the last event: a gap is reported, nothing twice', async () => {
    const calls: string[] = [];
    const seen: string[] = [];
    const gaps: string[] = [];
    let lost = 0;
    const abort = new AbortController();
    const replies = [
      [ev(1), ev(2)],
      // The engine re-sends from `since` (ev 2 again) and then new ones.
      [ev(2), ev(3)],
    ];
    const runtime = {
      eventStream: (o: { since?: string }) => {
        calls.push(o.since ?? '');
        const lines = replies.shift();
        if (!lines) {
          abort.abort();
          return Promise.reject(new Error('engine down'));
        }
        return Promise.resolve({
          stream: Readable.from([`${lines.join('\n')}\n`]),
          source: 'test',
        });
      },
    } as unknown as ContainerRuntime;
    const feed = new EventFeed({
      runtime,
      since: 5n,
      signal: abort.signal,
      minBackoffMs: 1,
      handlers: {
        event: (raw) => seen.push(raw),
        lost: () => lost++,
        back: (_l, _a, since) => gaps.push(since.toString()),
      },
    });
    await feed.done;
    expect(seen).toEqual([ev(1), ev(2), ev(3)]);
    expect(lost).toBe(2);
    expect(calls[0]).toBe('0.000000005');
    // Reconnected from ev 2's exact time.
    expect(gaps).toEqual([(BigInt(1777629602) * 1_000_000_000n + 123456789n).toString()]);
  });
});
