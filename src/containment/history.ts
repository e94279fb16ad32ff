import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FailureError } from '../engine/errors.js';
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

/** custody action → which list its record belongs to; release:* clears the list. */
const KINDS = {
  'contain:network-isolate': 'isolations',
  'contain:restart-policy': 'restartPolicies',
  'contain:limit': 'limits',
} as const;
const RELEASES: Record<string, keyof typeof EMPTY> = {
  'release:network-isolate': 'isolations',
  'release:restart-policy': 'restartPolicies',
  'release:limit': 'limits',
};
const EMPTY = { isolations: [], restartPolicies: [], limits: [] };

/**
 * Replays the custody log: a contain:* record with a containment artifact (also a failed one:
 * it may have changed something before failing) is outstanding until a release of that kind
 * succeeded. Each artifact is checked against the hash custody recorded for it, since release
 * acts on its content (an edited record could connect the container anywhere).
 */
export function outstanding(root: string, records: readonly CustodyRecord[]): Outstanding {
  const pending: Record<keyof typeof EMPTY, { path: string; sha256: string }[]> = { isolations: [], restartPolicies: [], limits: [] };
  let paused = false;
  for (const r of records) {
    const kind = KINDS[r.action as keyof typeof KINDS];
    if (kind) {
      // The chain checks a record was not edited, not that a hand-made chain has our shapes.
      for (const a of Array.isArray(r.artifacts) ? (r.artifacts as unknown[]) : []) {
        const ref = a as { path?: unknown; sha256?: unknown } | null;
        if (typeof ref?.path === 'string' && typeof ref.sha256 === 'string' && ref.path.startsWith('containment/')) pending[kind].push({ path: ref.path, sha256: ref.sha256 });
      }
    }
    const cleared = RELEASES[r.action];
    if (cleared && (r.result === 'ok' || r.result === 'noop')) pending[cleared] = [];
    if (r.action === 'contain:pause' && r.result === 'ok') paused = true;
    if ((r.action === 'contain:unpause' || r.action === 'release:unpause') && (r.result === 'ok' || r.result === 'noop')) paused = false;
  }
  return {
    isolations: pending.isolations.map((a) => readRecord(root, a, isIsolationRecord)),
    restartPolicies: pending.restartPolicies.map((a) => readRecord(root, a, isRestartPolicyRecord)),
    limits: pending.limits.map((a) => readRecord(root, a, isLimitRecord)),
    paused,
  };
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
