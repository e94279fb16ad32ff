import fs from 'node:fs';
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import { TimelineIndex } from '../../src/tui/data/timeline-index.js';
import { findTime, parseJumpTime, searchTimeline } from '../../src/tui/data/timeline-search.js';
import { FakeServices, KEY, makeTimelineCase, renderApp, tick, until } from '../helpers/tui.js';

afterEach(() => cleanup());

const N = 2000;
const DROPPER = 1234;
const dir = makeTimelineCase(N, (i) => {
  if (i === DROPPER)
    return {
      id: 'fs:fs/diff-index.jsonl#L7',
      source: 'fs',
      kind: 'fs:added',
      message: 'A /tmp/.cache/kworkerd (755, 312 bytes)',
      ref: { artifact: 'fs/diff-index.jsonl', line: 7 },
      timestamp_desc: 'Content Modification Time',
    };
  if (i === 5)
    return { message: 'req 5 \x1b]0;pwned\x07title set \x1b]8;;http://evil.example/x\x1b\\docs' };
  return {};
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function open() {
  const svc = new FakeServices();
  svc.cases.set(dir, {
    id: 'c',
    dir,
    status: 'sealed',
    target: 'victim',
    artifacts: [],
    notes: [],
    findings: [
      {
        id: 'f1',
        rule: 'dropper',
        title: 'Dropper',
        severity: 'high',
        events: ['fs:fs/diff-index.jsonl#L7'],
      },
    ],
  });
  const app = renderApp(svc, { startWith: [{ type: 'timeline:request', dir }] });
  return { svc, ...app };
}

describe('Timeline screen', () => {
  test('Given a case timeline, Then the first events and the selected one’s detail with its evidence reference are shown', async () => {
    const { lastFrame } = open();
    const f = await until(
      lastFrame,
      (x) => x.includes(`1/${N.toLocaleString('en-US')} events`) && x.includes('req 0 GET'),
    );
    expect(f).toMatch(/› 2024-05-01 12:00:00\s+fs\s+req 0 GET \/ 200/);
    expect(f).toContain('evidence logs/stdout.log line 1');
    expect(f).toContain('source fs · kind log:stdout · actor container');
  });

  test('j, arrows, PgDn and G scroll; only one window of rows is drawn', async () => {
    const { lastFrame, stdin } = open();
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
    stdin.write('j');
    await tick();
    stdin.write(KEY.down);
    await until(lastFrame, (x) => x.includes('3/2,000'));
    stdin.write(KEY.pageDown);
    await until(lastFrame, (x) => /\b1[0-9]\/2,000/.test(x));
    stdin.write('G');
    const f = await until(lastFrame, (x) => x.includes('2,000/2,000'));
    expect(f).toContain('req 1999 GET');
    expect(f).not.toContain('req 0 GET');
    expect(f.split('\n').length).toBeLessThanOrEqual(23);
  });

  test('When the user searches for the dropper, Then only matching events remain and the detail points at the evidence', async () => {
    const { lastFrame, stdin } = open();
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
    stdin.write('/');
    await until(lastFrame, (x) => x.includes('search:'));
    stdin.write('kworkerd');
    await until(lastFrame, (x) => x.includes('search: kworkerd'));
    stdin.write(KEY.enter);
    const f = await until(lastFrame, (x) => x.includes('1/1 matching of 2,000'));
    expect(f).toContain('A /tmp/.cache/kworkerd');
    expect(f).toContain('evidence fs/diff-index.jsonl line 7');
    // The event a finding points at is marked.
    expect(f).toMatch(/›◆.*kworkerd/);
    expect(f).toMatch(/Content Modification Time ◆ finding/);
    stdin.write('x');
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
  });

  test('s filters by source, cycling through the sources and back to all', async () => {
    const { lastFrame, stdin } = open();
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
    stdin.write('s');
    const f = await until(
      lastFrame,
      (x) => x.includes('matching of 2,000 · source fs') && !x.includes('searching'),
    );
    // Every third event is from fs in the fixture (plus the dropper event, which is fs too).
    expect(f).toContain('1/668 matching');
    stdin.write('s');
    await until(lastFrame, (x) => x.includes('source logs'));
    stdin.write('s');
    await until(lastFrame, (x) => x.includes('all sources'));
  });

  test('@ jumps to a time of day on the timeline’s day', async () => {
    const { lastFrame, stdin } = open();
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
    stdin.write('@');
    await until(lastFrame, (x) => x.includes('jump to time:'));
    stdin.write('12:20:34');
    stdin.write(KEY.enter);
    const f = await until(lastFrame, (x) => x.includes('1,235/2,000'));
    expect(f).toContain('kworkerd');
    stdin.write('@');
    await tick();
    stdin.write('nonsense\r');
    await until(lastFrame, (x) => x.includes('Not a time: "nonsense"'));
  });

  test('A hostile log line cannot set the title or write a hyperlink: the escapes are shown as text', async () => {
    const { lastFrame, stdin } = open();
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
    for (let i = 0; i < 5; i++) stdin.write('j');
    const f = await until(lastFrame, (x) => x.includes('6/2,000'));
    expect(f).toContain('\\x1b]0;pwned\\x07title set');
    expect(f).not.toContain('\x1b]');
    expect(f).not.toContain('\x07');
  });

  test('? shows the timeline keys', async () => {
    const { lastFrame, stdin } = open();
    await until(lastFrame, (x) => x.includes('1/2,000 events'));
    stdin.write('?');
    const f = await until(lastFrame, (x) => x.includes('Keys · Timeline'));
    expect(f).toContain('jump to a time');
  });
});

describe('timeline index and search (no UI)', () => {
  test('indexes every line with its time and source; reads any line back', async () => {
    const ix = await TimelineIndex.open(`${dir}/timeline/timeline.jsonl`);
    expect(ix.count).toBe(N);
    expect(ix.sorted).toBe(true);
    expect(ix.event(DROPPER).message).toContain('kworkerd');
    expect(ix.sourceAt(DROPPER)).toBe('fs');
    expect(ix.event(N - 1).message).toBe(`req ${N - 1} GET / 200`);
    ix.close();
  });

  test('search matches values, not JSON keys, and is case-insensitive', async () => {
    const ix = await TimelineIndex.open(`${dir}/timeline/timeline.jsonl`);
    expect([...(await searchTimeline(ix, { query: 'KWORKERD', source: null }))]).toEqual([DROPPER]);
    // "timestamp_desc" is a key in every line; nothing has it as a value.
    expect((await searchTimeline(ix, { query: 'timestamp_desc', source: null })).length).toBe(0);
    expect((await searchTimeline(ix, { query: 'kworkerd', source: 'logs' })).length).toBe(0);
    ix.close();
  });

  test('jump times: full ISO, without zone (UTC), and time of day', () => {
    const ref = Date.parse('2024-05-01T08:00:00Z') * 1000;
    expect(parseJumpTime('2024-05-01T12:00:00.123456Z', ref)).toBe(
      Date.parse('2024-05-01T12:00:00Z') * 1000 + 123456,
    );
    expect(parseJumpTime('2024-05-01 12:00', ref)).toBe(Date.parse('2024-05-01T12:00:00Z') * 1000);
    expect(parseJumpTime('12:00:05.5', ref)).toBe(Date.parse('2024-05-01T12:00:05.5Z') * 1000);
    expect(parseJumpTime('25:00', ref)).toBeUndefined();
    expect(parseJumpTime('yesterday', ref)).toBeUndefined();
  });

  test('findTime bisects to the first event at or after the time', async () => {
    const ix = await TimelineIndex.open(`${dir}/timeline/timeline.jsonl`);
    const base = Date.parse('2024-05-01T12:00:00Z') * 1000;
    expect(findTime(ix, null, base + 10_500_000)).toBe(11);
    expect(findTime(ix, null, base - 1)).toBe(0);
    expect(findTime(ix, null, base + 1e12)).toBe(N - 1);
    ix.close();
  });
});
