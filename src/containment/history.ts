import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { FailureError } from '../errors.js';
import type { CustodyRecord } from '../evidence/custody.js';
import { caseFile } from '../evidence/paths.js';
import type { AnyAction, Undo } from '../runner/action.js';

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
 * Replays the custody log for every action that declares an undo, in release order. Each record
 * artifact is checked against the hash custody recorded for it, since release acts on its content
 * (an edited record could connect the container anywhere).
 */
export function outstanding(root: string, records: readonly CustodyRecord[], actions: readonly AnyAction[]): Pending[] {
  const undoable = actions.filter((a): a is AnyAction & { undo: Undo } => Boolean(a.undo)).sort((a, b) => a.undo.order - b.undo.order);
  const scanned = undoable.map((a) => {
    const clears = new Set([a.undo.action, ...(a.undo.alsoClearedBy ?? [])]);
    let artifacts: { path: string; sha256: string }[] = [];
    let applied = false;
    for (const r of records) {
      if (r.action === a.name) {
        if (a.undo.tracks === 'records') for (const x of r.artifacts ?? []) if (x.path.startsWith('containment/')) artifacts.push(x);
        if (a.undo.tracks === 'state' && r.result === 'ok') applied = true;
      }
      if (clears.has(r.action) && (r.result === 'ok' || r.result === 'noop')) {
        artifacts = [];
        applied = false;
      }
    }
    return { a, artifacts, applied };
  });
  // Read (and check) every record before anything is undone.
  return scanned.map(({ a, artifacts, applied }) => {
    const recs = artifacts.map((x) => readRecord(root, x));
    return { action: a.name, undo: a.undo, records: recs, applied: a.undo.tracks === 'records' ? recs.length > 0 : applied };
  });
}

function readRecord(root: string, a: { path: string; sha256: string }): unknown {
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
  return JSON.parse(bytes.toString('utf8')) as unknown;
}
