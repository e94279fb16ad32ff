import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaseSource } from '../../../src/evidence/case-source.js';
import { buildTimeline } from '../../../src/timeline/build.js';
import type { TimelineEvent } from '../../../src/timeline/event.js';
import { writeCase } from '../../fixtures/case-folder.js';

const ID = 'c'.repeat(64);
const rec = (seq: number, kind: string, f: Record<string, unknown>): string =>
  `${JSON.stringify({ seq, time: '2026-05-01T10:00:30.000Z', kind, container: ID, ...f, prevHash: '0'.repeat(64), hash: '1'.repeat(64) })}\n`;

const EXCERPT = [
  rec(1, 'process:appeared', {
    pid: 900,
    nspid: 7,
    comm: 'nc',
    cmdline: ['nc', '10.0.0.9', '4444'],
    startTime: '2026-05-01T10:00:01.250Z',
    firstSeen: '2026-05-01T10:00:10.000Z',
  }),
  rec(2, 'socket:appeared', {
    proto: 'tcp',
    local: '172.17.0.2:40000',
    remote: '10.0.0.9:4444',
    state: 'ESTABLISHED',
    processes: ['nc'],
    firstSeen: '2026-05-01T10:00:10.000Z',
  }),
  rec(3, 'process:ended', {
    pid: 900,
    nspid: 7,
    comm: 'nc',
    cmdline: ['nc', '10.0.0.9', '4444'],
    startTime: '2026-05-01T10:00:01.250Z',
    firstSeen: '2026-05-01T10:00:10.000Z',
    lastSeen: '2026-05-01T10:00:20.000Z',
    goneBy: '2026-05-01T10:00:30.000Z',
  }),
  `${JSON.stringify({ seq: 4, time: '2026-05-01T10:01:00.000Z', kind: 'gap', from: '2026-05-01T10:00:40.000Z', to: '2026-05-01T10:00:50.000Z', reason: 'the engine closed the event stream', prevHash: '0'.repeat(64), hash: '2'.repeat(64) })}\n`,
  'not json\n',
].join('');

let dir: string;
beforeAll(async () => {
  dir = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-tl-journal-')), {
    files: { 'case.json': {}, 'journal/excerpt.jsonl': EXCERPT },
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('timeline source "journal" (the flight recorder snapshots in journal/excerpt.jsonl)', () => {
  test('processes and sockets that came and went, and gaps, each labelled with its origin', async () => {
    const built = await buildTimeline(await openCaseSource(dir), { sources: ['journal'] });
    const events: TimelineEvent[] = [];
    for await (const e of built.events) events.push(e);
    expect(events.map((e) => [e.datetime.slice(11, 23), e.kind])).toEqual([
      ['10:00:01.250', 'process:start'],
      ['10:00:10.000', 'socket:seen'],
      ['10:00:30.000', 'process:end'],
      ['10:00:40.000', 'journal:gap'],
    ]);
    expect(events.every((e) => e.source === 'journal')).toBe(true);
    expect(events[0].attrs.origin).toMatch(/flight recorder snapshot/);
    expect(events[2].attrs.lastSeen).toBe('2026-05-01T10:00:20.000Z');
    expect(events[1].message).toContain('10.0.0.9:4444');
    expect(events[0].ref).toEqual({
      artifact: 'journal/excerpt.jsonl',
      line: 1,
      field: 'startTime',
    });
    expect(built.diag.warnings.join('\n')).toMatch(/excerpt\.jsonl:5: not valid JSON/);
  });
});
