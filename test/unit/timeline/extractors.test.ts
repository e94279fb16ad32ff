import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTimeline } from '../../../src/timeline/build.js';
import type { TimelineEvent } from '../../../src/timeline/event.js';
import type { Extractor } from '../../../src/timeline/extractor.js';
import { ExtractorRegistry, extractors } from '../../../src/timeline/extractors/index.js';
import { openCaseSource } from '../../../src/evidence/case-source.js';
import {
  compromisedCase,
  HOSTILE_LOG,
  HOSTILE_NAME,
  writeCase,
} from '../../fixtures/case-folder.js';

let dir: string;
let empty: string;
beforeAll(async () => {
  dir = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-tl-')), compromisedCase());
  empty = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-tl-empty-')), {
    files: { 'case.json': {} },
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

async function run(
  root: string,
  source: string,
): Promise<{ events: TimelineEvent[]; notes: string[]; warnings: string[] }> {
  const built = await buildTimeline(await openCaseSource(root), { sources: [source] });
  const events: TimelineEvent[] = [];
  for await (const e of built.events) events.push(e);
  return { events, notes: built.diag.notes, warnings: built.diag.warnings };
}

const kinds = (events: TimelineEvent[]): Record<string, number> =>
  events.reduce<Record<string, number>>((m, e) => ({ ...m, [e.kind]: (m[e.kind] ?? 0) + 1 }), {});

describe('extractors on the compromised fixture', () => {
  test.each<[string, Record<string, number>, (events: TimelineEvent[]) => void]>([
    [
      'lifecycle',
      { 'container:created': 1, 'container:started': 1 },
      (ev) => {
        // FinishedAt is Go's zero time: "never", not an event.
        expect(ev.find((e) => e.kind === 'container:started')?.attrs.restartCount).toBe(2);
        expect(ev.every((e) => e.actor === 'engine')).toBe(true);
      },
    ],
    ['image', { 'image:layer': 2 }, (ev) => expect(ev[0].message).toContain('Imported from -')],
    [
      'engine',
      {
        'engine:container:create': 1,
        'engine:container:start': 1,
        'engine:container:exec_create': 2,
        'engine:container:exec_start': 1,
        'engine:container:exec_die': 2,
        'engine:container:pause': 1,
        'engine:container:top': 2,
        'engine:network:disconnect': 1,
      },
      (ev) => {
        const actor = (action: string, nth = 0) =>
          ev.filter((e) => e.attrs.action === action)[nth]?.actor;
        // Inside our step windows: ours. The attacker's exec during our run and a later top: not ours.
        expect(actor('pause')).toBe('responder');
        expect(actor('top', 0)).toBe('responder');
        expect(actor('disconnect')).toBe('responder');
        expect(actor('top', 1)).toBe('engine');
        expect(actor('exec_create: id')).toBe('engine');
        expect(ev.find((e) => e.attrs.action === 'create')?.attrs.timeNanos).toMatch(/^\d{19}$/);
      },
    ],
    [
      'exec',
      { 'exec:session': 2 },
      (ev) => {
        expect(ev[0].attrs).toMatchObject({
          execId: 'e1',
          command: 'sh -c echo key >> /root/.ssh/authorized_keys',
          exitCode: 0,
          durationMs: 190,
        });
        // The commands ran inside the container; no step claimed their exec ids, so not the responder's.
        expect(ev.map((e) => e.actor)).toEqual(['container', 'container']);
      },
    ],
    [
      'logs',
      { 'log:stdout': 4, 'log:stderr': 2 },
      (ev) => {
        expect(ev.map((e) => e.message)).toContain(HOSTILE_LOG);
        expect(ev.some((e) => e.message.length === 1024 * 1024)).toBe(true);
        expect(ev[0].attrs.timeNanos).toBe(`${ev[0].timestamp}456`);
      },
    ],
    [
      'fs',
      { 'fs:added': 10, 'fs:changed': 2, 'fs:deleted': 1 },
      (ev) => {
        const k = ev.filter((e) => e.attrs.path === '/tmp/.cache/kworkerd');
        expect(k.map((e) => e.attrs.timeFields)).toEqual([
          ['birthtime'],
          ['mtime'],
          ['ctime'],
          ['atime'],
        ]);
        expect(k.find((e) => e.ref.field === 'mtime')?.message).toBe(
          'added /tmp/.cache/kworkerd (file -rwxr-xr-x 0:0 134 B) [m...]',
        );
        // Equal times make one event, marked like mactime does.
        const keys = ev.filter((e) => e.attrs.path === '/root/.ssh/authorized_keys');
        expect(keys.map((e) => [e.ref.field, e.timestamp_desc, e.message.slice(-6)])).toEqual([
          ['mtime+ctime', 'Content Modification Time; Metadata Change Time', '[m.c.]'],
          ['atime', 'Last Access Time', '[.a..]'],
        ]);
        expect(ev.find((e) => e.attrs.path === HOSTILE_NAME)?.timestamp_desc).toBe(
          'Content Modification Time',
        );
        expect(ev.find((e) => e.attrs.path === '/etc/motd')?.timestamp_desc).toBe(
          'Change Observed (collection time)',
        );
      },
    ],
    [
      'process',
      { 'process:start': 4 },
      (ev) => expect(ev.map((e) => e.attrs.nspid)).toEqual([1, 7, 30, 31]),
    ],
    [
      'socket',
      { 'net:listening': 2, 'net:socket': 5 },
      (ev) => {
        expect(new Set(ev.map((e) => e.attrs.phase))).toEqual(
          new Set(['before-isolation', 'after-isolation']),
        );
        expect(
          ev.find((e) => e.attrs.remotePort === 4444 && e.attrs.phase === 'after-isolation')
            ?.message,
        ).toBe('tcp 172.18.0.3:40000 → 172.18.0.2:4444 ESTABLISHED (nc) [after-isolation]');
      },
    ],
    [
      'custody',
      { 'custody:info': 1, 'custody:ok': 4 },
      (ev) => expect(ev.every((e) => e.actor === 'responder')).toBe(true),
    ],
  ])('%s', async (source, expectedKinds, more) => {
    const { events } = await run(dir, source);
    expect(kinds(events)).toEqual(expectedKinds);
    expect(events.every((e) => e.source === source)).toBe(true);
    for (let i = 1; i < events.length; i++)
      expect(events[i].timestamp).toBeGreaterThanOrEqual(events[i - 1].timestamp);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    more(events);
  });

  test.each([
    ['engine', 'container/events.jsonl:6: not valid JSON'],
    ['logs', 'logs/stdout.log:3: no RFC 3339 time prefix'],
    ['fs', 'fs/diff-index.jsonl:7: not valid JSON'],
    ['fs', 'fs/changes.json: entry 9 is not {Path, Kind}'],
  ])('%s: a malformed record is a warning and the rest is read (%s)', async (source, warning) => {
    const { events, warnings } = await run(dir, source);
    expect(warnings.some((w) => w.startsWith(warning))).toBe(true);
    expect(events.length).toBeGreaterThan(0);
  });
});

describe('missing artifacts', () => {
  test.each(extractors.names())('%s: skipped with a note, no events, no error', async (source) => {
    const { events, notes } = await run(empty, source);
    expect(events).toEqual([]);
    expect(notes.join('\n')).toContain(`${source}: `);
  });
});

describe('registry', () => {
  test('a duplicate extractor name throws', () => {
    const x: Extractor = { name: 'logs', description: '', artifacts: [], extract: async () => [] };
    expect(() => new ExtractorRegistry([x, { ...x }])).toThrow('registered twice');
  });
});
