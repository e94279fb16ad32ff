import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FailureError } from '../errors.js';
import type { CustodyRecord } from '../evidence/custody.js';
import { caseFile } from '../evidence/paths.js';
import { safeText } from '../util/sanitize.js';
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
      // The chain checks a record was not edited, not that a hand-made chain has our shapes.
      const refs: { path: string; sha256: string; at: string }[] = [];
      for (const x of Array.isArray(r.artifacts) ? (r.artifacts as unknown[]) : []) {
        const ref = x as { path?: unknown; sha256?: unknown } | null;
        if (typeof ref?.path === 'string' && typeof ref.sha256 === 'string' && ref.path.startsWith('containment/')) refs.push({ path: ref.path, sha256: ref.sha256, at: r.time });
      }
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
    isolations: readRecords(root, r.pending.isolations, isIsolationRecord),
    restartPolicies: readRecords(root, r.pending.restartPolicies, isRestartPolicyRecord),
    limits: readRecords(root, r.pending.limits, isLimitRecord),
    paused: r.paused,
  };
}

export function readRecords<T>(root: string, refs: readonly { path: string; sha256: string }[], check: (d: unknown) => d is T): T[] {
  return refs.map((a) => readRecord(root, a, check));
}

function readRecord<T>(root: string, a: { path: string; sha256: string }, check: (d: unknown) => d is T): T {
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
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FailureError(`containment record ${a.path} of the case is not valid JSON (${safeText((err as Error).message).slice(0, 160)})`, { hint: RECORD_HINT });
  }
  if (!check(doc)) throw new FailureError(`containment record ${a.path} of the case does not have the fields release needs`, { hint: RECORD_HINT });
  return doc;
}

const RECORD_HINT = 'Release cannot know what to restore from it; undo the containment by hand (docker network connect/disconnect, docker update).';

const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasContainer = (d: Record<string, unknown>): boolean => obj(d.container) && typeof d.container.id === 'string' && typeof d.container.name === 'string';

/** Just what release reads of each record (its undo code trusts these fields). */
export const isIsolationRecord = (d: unknown): d is IsolationRecord =>
  obj(d) && hasContainer(d) && Array.isArray(d.before) && d.before.every(obj) && obj(d.quarantineNetwork) && typeof d.quarantineNetwork.name === 'string' && (d.ports === undefined || d.ports === null || obj(d.ports));
export const isRestartPolicyRecord = (d: unknown): d is RestartPolicyRecord =>
  obj(d) && hasContainer(d) && obj(d.before) && typeof d.before.Name === 'string' && typeof d.before.MaximumRetryCount === 'number';
export const isLimitRecord = (d: unknown): d is LimitRecord => obj(d) && hasContainer(d) && obj(d.before);
