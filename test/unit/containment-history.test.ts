import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { registry } from '../../src/actions/index.js';
import { ActionRegistry } from '../../src/runner/registry.js';
import { outstanding } from '../../src/containment/history.js';
import type { CustodyRecord } from '../../src/evidence/custody.js';

/** Custody records as the runner writes them (only the fields release reads matter here). */
function rec(
  action: string,
  result: CustodyRecord['result'],
  artifacts?: { path: string; sha256: string; bytes: number }[],
): CustodyRecord {
  return {
    seq: 0,
    time: '',
    prevHash: '',
    hash: '',
    actor: 't',
    action,
    result,
    ...(artifacts ? { artifacts } : {}),
  } as CustodyRecord;
}

describe('release reads what to undo from the undo each action declares', () => {
  let root: string;
  let isolation: { path: string; sha256: string; bytes: number };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-history-'));
    const body = JSON.stringify({
      schema: 'cirt.containment.network-isolate/1',
      container: { id: 'c', name: 'n' },
      quarantineNetwork: { name: 'q', id: 'qi' },
      before: [],
    });
    fs.mkdirSync(path.join(root, 'containment'));
    fs.writeFileSync(path.join(root, 'containment/network-isolate.json'), body);
    isolation = {
      path: 'containment/network-isolate.json',
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: body.length,
    };
  });

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('every containment action with an undo is listed, in release order: settings, networks, then the thaw', () => {
    const pending = outstanding(root, [], registry.list());
    expect(pending.map((p) => [p.action, p.undo.action])).toEqual([
      ['contain:restart-policy', 'release:restart-policy'],
      ['contain:limit', 'release:limit'],
      ['contain:restrict-egress', 'release:restrict-egress'],
      ['contain:network-isolate', 'release:network-isolate'],
      ['contain:pause', 'release:unpause'],
    ]);
    expect(pending.every((p) => !p.applied)).toBe(true);
  });

  test('Given an isolation (even a failed one) and a pause, then both are pending until their undo succeeds', () => {
    const log = [rec('contain:pause', 'ok'), rec('contain:network-isolate', 'failed', [isolation])];
    const byAction = (records: CustodyRecord[]) =>
      Object.fromEntries(outstanding(root, records, registry.list()).map((p) => [p.action, p]));
    let p = byAction(log);
    expect(p['contain:network-isolate']).toMatchObject({
      applied: true,
      records: [{ schema: 'cirt.containment.network-isolate/1' }],
    });
    expect(p['contain:pause'].applied).toBe(true);
    p = byAction([
      ...log,
      rec('release:network-isolate', 'failed'),
      rec('contain:unpause', 'noop'),
    ]);
    expect(p['contain:network-isolate'].applied).toBe(true);
    expect(p['contain:pause'].applied).toBe(false);
    p = byAction([...log, rec('release:network-isolate', 'ok')]);
    expect(p['contain:network-isolate']).toMatchObject({ applied: false, records: [] });
  });

  test('an edited record is refused before anything is undone', () => {
    fs.appendFileSync(path.join(root, 'containment/network-isolate.json'), ' ');
    expect(() =>
      outstanding(root, [rec('contain:network-isolate', 'ok', [isolation])], registry.list()),
    ).toThrow(/was changed after it was written/);
  });

  test('two actions declaring the same undo are refused by the registry', () => {
    const pause = registry.get('contain:pause')!;
    expect(() => new ActionRegistry([pause, { ...pause, name: 'contain:freeze' }])).toThrow(
      /undo "release:unpause" is declared twice/,
    );
  });
});
