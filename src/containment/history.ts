import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FailureError } from '../errors.js';
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
      for (const a of r.artifacts ?? []) if (a.path.startsWith('containment/')) pending[kind].push(a);
    }
    const cleared = RELEASES[r.action];
    if (cleared && (r.result === 'ok' || r.result === 'noop')) pending[cleared] = [];
    if (r.action === 'contain:pause' && r.result === 'ok') paused = true;
    if ((r.action === 'contain:unpause' || r.action === 'release:unpause') && (r.result === 'ok' || r.result === 'noop')) paused = false;
  }
  return {
    isolations: pending.isolations.map((a) => readRecord<IsolationRecord>(root, a)),
    restartPolicies: pending.restartPolicies.map((a) => readRecord<RestartPolicyRecord>(root, a)),
    limits: pending.limits.map((a) => readRecord<LimitRecord>(root, a)),
    paused,
  };
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
