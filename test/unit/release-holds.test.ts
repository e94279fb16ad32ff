import { describe, expect, test } from '@jest/globals';
import { registry } from '../../src/actions/index.js';
import { replay as replayWith } from '../../src/containment/history.js';
import type { CustodyRecord } from '../../src/evidence/custody.js';

let seq = 0;
const rec = (
  action: string,
  result: CustodyRecord['result'],
  extra: Partial<CustodyRecord> = {},
): CustodyRecord => ({
  seq: ++seq,
  time: `2026-12-01T10:00:${String(seq).padStart(2, '0')}.000Z`,
  actor: 't',
  action,
  result,
  prevHash: '',
  hash: '',
  ...extra,
});
const replay = (records: CustodyRecord[]) => replayWith(records, registry.list());
const iso = { path: 'containment/network-isolate.json', sha256: 'a'.repeat(64), bytes: 1 };

describe('what a case holds on its container (custody replay)', () => {
  test.each([
    [
      'applied by the case',
      ['isolations', 'paused'],
      [rec('contain:pause', 'ok'), rec('contain:network-isolate', 'ok', { artifacts: [iso] })],
    ],
    [
      'found already in force (noop)',
      ['isolations', 'paused', 'restartPolicies'],
      [
        rec('contain:pause', 'noop'),
        rec('contain:network-isolate', 'noop'),
        rec('contain:restart-policy', 'noop'),
      ],
    ],
    [
      'a failed step that wrote its record first',
      ['isolations'],
      [rec('contain:network-isolate', 'failed', { artifacts: [iso] })],
    ],
    [
      'a failed step that changed nothing',
      [],
      [rec('contain:pause', 'failed'), rec('contain:network-isolate', 'failed')],
    ],
    ['released', [], [rec('contain:pause', 'ok'), rec('release:unpause', 'ok')]],
    [
      'released, kept in force for another case',
      [],
      [rec('contain:pause', 'ok'), rec('release:unpause', 'noop', { details: { keptBy: ['A'] } })],
    ],
    [
      'a failed release',
      ['paused'],
      [rec('contain:pause', 'ok'), rec('release:unpause', 'failed')],
    ],
  ] as [string, string[], CustodyRecord[]][])(
    'Given custody where the measure was %s, then the case holds %j',
    (_, holds, records) => {
      expect([...replay(records).holds].sort()).toEqual(holds);
    },
  );

  test('Given a release kept in force by another case, then its records are kept for the last holder, not consumed', () => {
    const r = replay([
      rec('contain:pause', 'ok'),
      rec('contain:network-isolate', 'ok', { artifacts: [iso] }),
      rec('release:network-isolate', 'noop', { details: { keptBy: ['B'] } }),
      rec('release:unpause', 'noop', { details: { keptBy: ['B'] } }),
    ]);
    expect(r.pending.isolations).toEqual([]);
    expect(r.kept.isolations).toMatchObject([{ path: iso.path, sha256: iso.sha256 }]);
    expect(r.kept.isolations[0].keptAt > r.kept.isolations[0].at).toBe(true);
    expect(r.appliedKeptAt.paused).toBeDefined();
    expect(r.undoneAt).toEqual({});
  });

  test('Given a release that undid the measure, then nothing is kept and the time is noted', () => {
    const r = replay([
      rec('contain:network-isolate', 'ok', { artifacts: [iso] }),
      rec('release:network-isolate', 'ok'),
    ]);
    expect(r.kept.isolations).toEqual([]);
    expect(r.undoneAt.isolations).toBeDefined();
  });
});
