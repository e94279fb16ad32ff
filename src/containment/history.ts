import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FailureError } from '../engine/errors.js';
import type { CustodyRecord } from '../evidence/custody.js';
import { caseFile } from '../evidence/paths.js';
import type { IsolationRecord, LimitRecord, RestartPolicyRecord } from './records.js';

/** What a case did to its container and has not undone yet, oldest first. */
export interface Outstanding {
  isolations: IsolationRecord[];
  restartPolicies: RestartPolicyRecord[];
  limits: LimitRecord[];
  /** The case paused the container and did not unpause it since. */
  paused: boolean;
}

/** The containment measures release undoes; a case "holds" one while it relies on it being in force. */
export type Measure = 'pause' | Kind;
type Kind = 'isolations' | 'restartPolicies' | 'limits';

/** custody action → which list its record belongs to; release:* clears the list. */
const KINDS = {
  'contain:network-isolate': 'isolations',
  'contain:restart-policy': 'restartPolicies',
  'contain:limit': 'limits',
} as const;
const RELEASES: Record<string, Kind> = {
  'release:network-isolate': 'isolations',
  'release:restart-policy': 'restartPolicies',
  'release:limit': 'limits',
};

/** A containment record named by custody, and when the contain step that wrote it ended. */
export interface RecordRef {
  path: string;
  sha256: string;
  at: string;
}

/** One case's custody, replayed for what it holds on its container. */
export interface Replay {
  /** Records of containment this case did and has not released. */
  pending: Record<Kind, RecordRef[]>;
  /**
   * Records this case released while another case still held the measure (release left it in
   * force): the last holder's release restores from them. `keptAt` is when that release ran.
   */
  kept: Record<Kind, (RecordRef & { keptAt: string })[]>;
  /** The last time this case's release found the measure undone or undid it itself. */
  undoneAt: Partial<Record<Measure, string>>;
  /** Measures this case relies on: it applied them, or found them in force (noop), and has not released them. */
  holds: Set<Measure>;
  /** This case paused the container itself and has not unpaused it. */
  paused: boolean;
  /** This case paused it, and its release left the pause in force for another case. */
  pauseKeptAt?: string;
}

const kinds = (): Record<Kind, never[]> => ({ isolations: [], restartPolicies: [], limits: [] });

/**
 * Replays a custody log: a contain:* record with a containment artifact (also a failed one: it may
 * have changed something before failing) is outstanding until a release of that kind succeeded.
 * A contain step that found its measure already in force (noop) holds it too, so the case that
 * applied it cannot undo it under this one's feet.
 */
export function replay(records: readonly CustodyRecord[]): Replay {
  const pending: Replay['pending'] = kinds();
  const kept: Replay['kept'] = kinds();
  const undoneAt: Replay['undoneAt'] = {};
  const holds = new Set<Measure>();
  let paused = false;
  let pauseKeptAt: string | undefined;
  const done = (r: CustodyRecord): boolean => r.result === 'ok' || r.result === 'noop';
  for (const r of records) {
    const kind = KINDS[r.action as keyof typeof KINDS];
    if (kind) {
      const refs = (r.artifacts ?? []).filter((a) => a.path.startsWith('containment/')).map((a) => ({ path: a.path, sha256: a.sha256, at: r.time }));
      pending[kind].push(...refs);
      if (done(r) || refs.length) holds.add(kind);
    }
    const cleared = RELEASES[r.action];
    if (cleared && done(r)) {
      if (keptBy(r).length) kept[cleared].push(...pending[cleared].map((a) => ({ ...a, keptAt: r.time })));
      else undoneAt[cleared] = r.time;
      pending[cleared] = [];
      holds.delete(cleared);
    }
    if (r.action === 'contain:pause' && done(r)) holds.add('pause');
    if (r.action === 'contain:pause' && r.result === 'ok') paused = true;
    if ((r.action === 'contain:unpause' || r.action === 'release:unpause') && done(r)) {
      holds.delete('pause');
      if (!keptBy(r).length) undoneAt.pause = r.time;
      else if (paused) pauseKeptAt = r.time;
      paused = false;
    }
  }
  return { pending, kept, undoneAt, holds, paused, ...(pauseKeptAt ? { pauseKeptAt } : {}) };
}

/** The cases a release record says kept the measure in force (details.keptBy). */
export function keptBy(r: CustodyRecord): string[] {
  const k = (r.details as { keptBy?: unknown } | undefined)?.keptBy;
  return Array.isArray(k) ? k.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * What a case did to its container and has not undone yet. Each artifact is checked against the
 * hash custody recorded for it, since release acts on its content (an edited record could connect
 * the container anywhere).
 */
export function outstanding(root: string, records: readonly CustodyRecord[]): Outstanding {
  const r = replay(records);
  return {
    isolations: readRecords<IsolationRecord>(root, r.pending.isolations),
    restartPolicies: readRecords<RestartPolicyRecord>(root, r.pending.restartPolicies),
    limits: readRecords<LimitRecord>(root, r.pending.limits),
    paused: r.paused,
  };
}

export function readRecords<T>(root: string, refs: readonly { path: string; sha256: string }[]): T[] {
  return refs.map((a) => readRecord<T>(root, a));
}

function readRecord<T>(root: string, a: { path: string; sha256: string }): T {
  const file = caseFile(root, a.path);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new FailureError(`containment record ${a.path} of the case cannot be read: ${(err as Error).message}`, {
      hint: 'Without it release cannot know what to restore; undo the containment by hand (docker network connect/disconnect, docker update).',
    });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== a.sha256) {
    throw new FailureError(`containment record ${a.path} was changed after it was written (sha256 ${actual.slice(0, 12)}… ≠ custody ${a.sha256.slice(0, 12)}…)`, {
      hint: 'Release refuses to act on an altered record; restore the original file or undo the containment by hand.',
    });
  }
  return JSON.parse(bytes.toString('utf8')) as T;
}
