import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { FailureError } from '../errors.js';
import type { CustodyRecord } from '../evidence/custody.js';
import { caseFile } from '../evidence/paths.js';
import type { AnyAction, Undo } from '../runner/action.js';
import { safeText } from '../util/sanitize.js';

/** A containment action with its undo, as the registry declares it. */
export type Undoable = AnyAction & { undo: Undo };

/** The actions release can undo, in release order (settings, then networks, then the thaw). */
export function undoables(actions: readonly AnyAction[]): Undoable[] {
  return actions
    .filter((a): a is Undoable => Boolean(a.undo))
    .sort((a, b) => a.undo.order - b.undo.order);
}

/** A containment record named by custody, and when the contain step that wrote it ended. */
export interface RecordRef {
  path: string;
  sha256: string;
  at: string;
}

/**
 * One case's custody, replayed for what it holds on its container. Every map is keyed by the
 * measure's `undo.key` (`isolations`, `restartPolicies`, `limits`, `paused`).
 */
export interface Replay {
  /** Records of containment this case did and has not released (`tracks: 'records'`). */
  pending: Record<string, RecordRef[]>;
  /**
   * Records this case released while another case still held the measure (release left it in
   * force): the last holder's release restores from them. `keptAt` is when that release ran.
   */
  kept: Record<string, (RecordRef & { keptAt: string })[]>;
  /** The last time this case's release found the measure undone or undid it itself. */
  undoneAt: Record<string, string>;
  /** Measures this case relies on: it applied them, or found them in force (noop), and has not released them. */
  holds: Set<string>;
  /** `tracks: 'state'` measures this case applied itself and has not undone. */
  applied: Record<string, boolean>;
  /** `tracks: 'state'` measures this case applied, whose release left them in force for another case. */
  appliedKeptAt: Record<string, string>;
}

const done = (r: CustodyRecord): boolean => r.result === 'ok' || r.result === 'noop';

/** The cases a release record says kept the measure in force (details.keptBy). */
export function keptBy(r: CustodyRecord): string[] {
  const k = (r.details as { keptBy?: unknown } | undefined)?.keptBy;
  return Array.isArray(k) ? k.filter((x): x is string => typeof x === 'string') : [];
}

/** The containment artifacts a contain record names (the chain checks a record was not edited, not that a hand-made chain has our shapes). */
function recordRefs(r: CustodyRecord): RecordRef[] {
  const refs: RecordRef[] = [];
  for (const x of Array.isArray(r.artifacts) ? (r.artifacts as unknown[]) : []) {
    const ref = x as { path?: unknown; sha256?: unknown } | null;
    if (
      typeof ref?.path === 'string' &&
      typeof ref.sha256 === 'string' &&
      ref.path.startsWith('containment/')
    )
      refs.push({ path: ref.path, sha256: ref.sha256, at: r.time });
  }
  return refs;
}

/**
 * Replays a custody log against the undo each action declares: a contain record with a
 * containment artifact (also a failed one: it may have changed something before failing) is
 * outstanding until its undo (or one of `alsoClearedBy`) succeeded. A contain step that found its
 * measure already in force (noop) holds it too, so the case that applied it cannot undo it under
 * this one's feet.
 */
export function replay(records: readonly CustodyRecord[], actions: readonly AnyAction[]): Replay {
  const list = undoables(actions);
  const r: Replay = {
    pending: {},
    kept: {},
    undoneAt: {},
    holds: new Set(),
    applied: {},
    appliedKeptAt: {},
  };
  for (const a of list) {
    r.pending[a.undo.key] = [];
    r.kept[a.undo.key] = [];
    r.applied[a.undo.key] = false;
  }
  for (const rec of records) {
    for (const a of list) {
      const key = a.undo.key;
      if (rec.action === a.name) {
        if (a.undo.tracks === 'records') {
          const refs = recordRefs(rec);
          r.pending[key].push(...refs);
          if (done(rec) || refs.length) r.holds.add(key);
        } else {
          if (done(rec)) r.holds.add(key);
          if (rec.result === 'ok') r.applied[key] = true;
        }
      }
      const clears =
        rec.action === a.undo.action || (a.undo.alsoClearedBy ?? []).includes(rec.action);
      if (clears && done(rec)) {
        const keeping = keptBy(rec).length > 0;
        if (a.undo.tracks === 'records') {
          if (keeping) r.kept[key].push(...r.pending[key].map((x) => ({ ...x, keptAt: rec.time })));
          else r.undoneAt[key] = rec.time;
          r.pending[key] = [];
        } else {
          if (!keeping) r.undoneAt[key] = rec.time;
          else if (r.applied[key]) r.appliedKeptAt[key] = rec.time;
          r.applied[key] = false;
        }
        r.holds.delete(key);
      }
    }
  }
  return r;
}

/** What a case did to its container with one containment action and has not undone yet. */
export interface Pending {
  /** The containment action (`contain:network-isolate`). */
  action: string;
  undo: Undo;
  /** Its containment records, oldest first (for `tracks: 'records'`). */
  records: unknown[];
  /** Something is to undo. */
  applied: boolean;
}

/**
 * What a case did and has not undone, per undoable action in release order. Each record artifact
 * is checked against the hash custody recorded for it and against the shape its undo needs, since
 * release acts on its content (an edited record could connect the container anywhere).
 */
export function outstanding(
  root: string,
  records: readonly CustodyRecord[],
  actions: readonly AnyAction[],
): Pending[] {
  const r = replay(records, actions);
  // Read (and check) every record before anything is undone.
  return undoables(actions).map((a) => {
    const recs = readRecords(root, r.pending[a.undo.key], a.undo);
    return {
      action: a.name,
      undo: a.undo,
      records: recs,
      applied: a.undo.tracks === 'records' ? recs.length > 0 : r.applied[a.undo.key],
    };
  });
}

/** Reads containment records, each checked against its custody hash and the undo's shape check. */
export function readRecords(
  root: string,
  refs: readonly { path: string; sha256: string }[],
  undo: Pick<Undo, 'validRecord'>,
): unknown[] {
  return refs.map((a) => readRecord(root, a, undo.validRecord));
}

const RECORD_HINT =
  'Release cannot know what to restore from it; undo the containment by hand (docker network connect/disconnect, docker update).';

function readRecord(
  root: string,
  a: { path: string; sha256: string },
  check?: (d: unknown) => boolean,
): unknown {
  const file = caseFile(root, a.path);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new FailureError(
      `containment record ${a.path} of the case cannot be read: ${(err as Error).message}`,
      {
        hint: 'Without it release cannot know what to restore; undo the containment by hand (docker network connect/disconnect, docker update).',
      },
    );
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== a.sha256) {
    throw new FailureError(
      `containment record ${a.path} was changed after it was written (sha256 ${actual.slice(0, 12)}… ≠ custody ${a.sha256.slice(0, 12)}…)`,
      {
        hint: 'Release refuses to act on an altered record; restore the original file or undo the containment by hand.',
      },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FailureError(
      `containment record ${a.path} of the case is not valid JSON (${safeText((err as Error).message).slice(0, 160)})`,
      { hint: RECORD_HINT },
    );
  }
  if (check && !check(doc))
    throw new FailureError(
      `containment record ${a.path} of the case does not have the fields release needs`,
      { hint: RECORD_HINT },
    );
  return doc;
}
