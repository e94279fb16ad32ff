import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeFindings } from '../../../src/findings/compute.js';
import { buildTimeline } from '../../../src/timeline/build.js';
import type { TimelineEvent } from '../../../src/timeline/event.js';
import { openCaseSource } from '../../../src/evidence/case-source.js';
import { custodyText, nano, T0, writeCase } from '../../fixtures/case-folder.js';

const ev = (
  ms: number,
  action: string,
  attrs: Record<string, string> = {},
  type = 'container',
): string =>
  JSON.stringify({
    Type: type,
    Action: action,
    Actor: { ID: 'c0ffee', Attributes: { name: 'victim', ...attrs } },
    time: Math.floor((T0 + ms) / 1000),
  }).replace(/}$/, `,"timeNano":${nano(ms)}}`);

// Given a playbook that read the engine's events twice: early (the engine keeps only 256) and after
// its last engine call. The attacker's exec e1 was still running at the first read.
const early = [
  ev(-60_000, 'create'),
  ev(-59_000, 'start'),
  ev(1_000, 'exec_create: sh -c sleep 3; id', { execID: 'e1' }),
  ev(1_010, 'exec_start: sh -c sleep 3; id', { execID: 'e1' }),
  ev(3_601_000, 'pause'),
];
const late = [
  // The buffer rolled: create/start are gone from the second read.
  ev(1_000, 'exec_create: sh -c sleep 3; id', { execID: 'e1' }),
  ev(1_010, 'exec_start: sh -c sleep 3; id', { execID: 'e1' }),
  ev(4_010, 'exec_die', { execID: 'e1', exitCode: '0' }),
  ev(3_601_000, 'pause'),
  ev(3_603_000, 'top'),
  ev(3_604_500, 'archive-path', { path: '/tmp' }),
  ev(3_605_000, 'export'),
  ev(3_605_500, 'commit', { comment: 'cirt evidence' }),
];
const custody = custodyText([
  { at: 3_600_000, action: 'run:start', result: 'info' },
  { at: 3_602_000, action: 'contain:pause', step: 'pause', result: 'ok' },
  { at: 3_602_500, action: 'collect:events', step: 'events', result: 'ok' },
  { at: 3_604_000, action: 'collect:processes', step: 'processes', result: 'ok' },
  { at: 3_604_800, action: 'collect:fs-diff', step: 'fs-diff', result: 'ok' },
  { at: 3_605_200, action: 'collect:export', step: 'export', result: 'ok' },
  { at: 3_605_800, action: 'collect:image-commit', step: 'commit', result: 'ok' },
  { at: 3_606_000, action: 'collect:events', step: 'events-late', result: 'ok' },
  { at: 3_606_100, action: 'run:end', result: 'ok' },
]);

let dir: string;
let events: TimelineEvent[];
beforeAll(async () => {
  dir = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-tl-reads-')), {
    files: {
      'custody.jsonl': custody,
      'container/events.jsonl': `${early.join('\n')}\n`,
      'container/events-2.jsonl': `${late.join('\n')}\n`,
    },
  });
  const built = await buildTimeline(await openCaseSource(dir), { sources: ['engine', 'exec'] });
  events = [];
  for await (const e of built.events) events.push(e);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('engine events read more than once', () => {
  test('both reads are merged: each event once, from the earliest read that has it', () => {
    const engine = events.filter((e) => e.source === 'engine');
    expect(engine.map((e) => `${e.attrs.action} ${e.ref.artifact}:${e.ref.line}`)).toEqual([
      'create container/events.jsonl:1',
      'start container/events.jsonl:2',
      'exec_create: sh -c sleep 3; id container/events.jsonl:3',
      'exec_start: sh -c sleep 3; id container/events.jsonl:4',
      'exec_die container/events-2.jsonl:3',
      'pause container/events.jsonl:5',
      'top container/events-2.jsonl:5',
      'archive-path container/events-2.jsonl:6',
      'export container/events-2.jsonl:7',
      'commit container/events-2.jsonl:8',
    ]);
  });

  test("our pause, top, archive, export and commit are the responder's, each naming its step; the attacker's exec is not", () => {
    const by = (a: string) => events.find((e) => e.source === 'engine' && e.attrs.action === a);
    expect(
      ['pause', 'top', 'archive-path', 'export', 'commit'].map((a) => [
        a,
        by(a)?.actor,
        by(a)?.attrs.responderStep,
      ]),
    ).toEqual([
      ['pause', 'responder', 'pause'],
      ['top', 'responder', 'processes'],
      ['archive-path', 'responder', 'fs-diff'],
      ['export', 'responder', 'export'],
      ['commit', 'responder', 'commit'],
    ]);
    const session = events.find((e) => e.kind === 'exec:session');
    expect(session).toMatchObject({
      actor: 'container',
      ref: { artifact: 'container/events.jsonl', line: 3 },
    });
    expect(session?.attrs).toMatchObject({ exitCode: 0, durationMs: 3000 });
  });

  test('the exec finding cites the lines of both reads and links their events', async () => {
    const doc = await computeFindings(await openCaseSource(dir));
    const f = doc.findings.find((x) => x.rule === 'exec-session');
    expect(f?.evidence.map((e) => `${e.artifact}:${e.ref.line}`)).toEqual([
      'container/events.jsonl:3',
      'container/events.jsonl:4',
      'container/events-2.jsonl:3',
    ]);
    expect(f?.events).toEqual(
      expect.arrayContaining([
        'exec:container/events.jsonl#L3/session',
        'engine:container/events-2.jsonl#L3',
      ]),
    );
  });
});
