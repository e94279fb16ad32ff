import type Docker from 'dockerode';
import { inspectContainer } from '../docker/inspect.js';
import { hintSuffix } from '../errors.js';
import { engineMessage } from '../docker/errors.js';
import type { CaseStore } from '../evidence/case-store.js';
import type { CustodyInput } from '../evidence/custody.js';
import { POST_SEAL_FILE, PostSealCustody } from '../evidence/post-seal-custody.js';
import { isIsolationRecord, isLimitRecord, isRestartPolicyRecord, outstanding, readRecords, replay, type Measure, type Outstanding, type Replay } from './history.js';
import type { IsolationRecord, LimitRecord, RestartPolicyRecord } from './records.js';
import { otherCases, type OtherCase } from './other-cases.js';
import { undoIsolation } from './undo-network.js';
import { undoLimits, undoPause, undoRestartPolicy, type UndoOutcome } from './undo-settings.js';

export interface ReleaseReport {
  caseId: string;
  container: { id: string; name: string };
  status: 'ok' | 'noop' | 'failed';
  outcomes: UndoOutcome[];
  /** Measures left in force because other open cases on the container still hold them. */
  kept: { action: string; measure: string; keptBy: string[] }[];
  /** Other cases that could not be read (their custody is damaged): not counted as holders. */
  warnings: string[];
  /** The custody file the release records went to (custody.post-seal.jsonl for a sealed case). */
  custodyFile: string;
  sealed: boolean;
}

const LABEL: Record<Measure, string> = {
  pause: 'the pause',
  isolations: 'the network isolation',
  restartPolicies: 'the restart policy',
  limits: 'the resource limits',
};

/**
 * Undoes what a case's containment changed, in reverse order of the contain playbook:
 * restart policy, limits, networks, then pause. Every undo is its own custody record, failures
 * too; one failing undo does not stop the others. A measure another open case on the same
 * container still holds stays in force, and the record says which case keeps it; the last
 * case to release it restores the state from the earliest record of any of them.
 */
export async function releaseCase(docker: Docker, store: CaseStore, actor: string, opts: { otherRoots?: readonly string[] } = {}): Promise<ReleaseReport> {
  const target = { id: store.caseInfo.target.id, name: store.caseInfo.target.name };
  const sealed = store.sealed;
  const postSeal = sealed ? PostSealCustody.open(store.root) : undefined;
  const record = (input: Omit<CustodyInput, 'actor' | 'target'>) =>
    (postSeal ? postSeal.append({ actor, target, ...input }) : store.record({ actor, target, ...input })).then(() => undefined);
  const custodyFile = sealed ? POST_SEAL_FILE : 'custody.jsonl';

  let todo: Outstanding;
  let mine: Replay;
  let others: OtherCase[];
  let warnings: string[];
  // One inspect for every undo: each reads only the fields it alone changes.
  let info: Docker.ContainerInspectInfo;
  try {
    // The records each log checked when it opened: the sealed chain and, after sealing, its continuation.
    const records = (postSeal ?? store.custody).records;
    todo = outstanding(store.root, records);
    mine = replay(records);
    ({ cases: others, warnings } = otherCases({ root: store.root, targetId: target.id }, opts.otherRoots));
    info = await inspectContainer(docker, target.id, target.name);
  } catch (err) {
    await record({ action: 'release:start', result: 'failed', params: { case: store.id }, message: engineMessage(err) });
    throw err;
  }
  const holders = (m: Measure): string[] => others.filter((c) => c.replay.holds.has(m)).map((c) => c.caseId);
  await record({
    action: 'release:start',
    result: 'info',
    params: { case: store.id },
    details: {
      isolations: todo.isolations.length,
      restartPolicies: todo.restartPolicies.length,
      limits: todo.limits.length,
      paused: todo.paused,
      sealed,
      otherCases: others.map((c) => ({ case: c.caseId, holds: [...c.replay.holds] })),
      ...(warnings.length ? { warnings } : {}),
    },
  });
  // Since the last time any case really undid a measure, what other cases kept in force for this one.
  const lastUndone = (m: Measure): string => [mine, ...others.map((c) => c.replay)].map((r) => r.undoneAt[m] ?? '').sort().at(-1) ?? '';
  const inherited = <T>(kind: Exclude<Measure, 'pause'>, check: (d: unknown) => d is T): T[] => {
    const since = lastUndone(kind);
    const refs = [
      ...mine.pending[kind].map((ref) => ({ root: store.root, ref })),
      ...others.flatMap((c) => c.replay.kept[kind].filter((k) => k.keptAt > since).map((ref) => ({ root: c.root, ref }))),
    ];
    // Earliest first: each undo restores from records[0], the state before the first case changed it.
    refs.sort((a, b) => (a.ref.at < b.ref.at ? -1 : a.ref.at > b.ref.at ? 1 : 0));
    return refs.map((r) => readRecords(r.root, [r.ref], check)[0]);
  };
  const pausedForMe = (): boolean => todo.paused || others.some((c) => c.replay.pauseKeptAt !== undefined && c.replay.pauseKeptAt > lastUndone('pause'));
  const steps: [string, Measure, () => Promise<UndoOutcome>][] = [
    ['release:restart-policy', 'restartPolicies', () => undoRestartPolicy(docker, info, inherited('restartPolicies', isRestartPolicyRecord))],
    ['release:limit', 'limits', () => undoLimits(docker, info, inherited('limits', isLimitRecord))],
    ['release:network-isolate', 'isolations', () => undoIsolation(docker, info, store.id, inherited('isolations', isIsolationRecord))],
    ['release:unpause', 'pause', () => undoPause(docker, info, pausedForMe())],
  ];
  const outcomes: UndoOutcome[] = [];
  const kept: ReleaseReport['kept'] = [];
  for (const [action, measure, run] of steps) {
    let o: UndoOutcome;
    const keptBy = mine.holds.has(measure) ? holders(measure) : [];
    if (keptBy.length) {
      o = keptOutcome(action, measure, keptBy);
      kept.push({ action, measure: LABEL[measure].replace(/^the /, ''), keptBy });
    } else {
      try {
        o = await run();
      } catch (err) {
        const hint = hintSuffix(err);
        o = { action, result: 'failed', message: `${engineMessage(err)}${hint}`, warnings: [] };
      }
    }
    outcomes.push(o);
    const details = o.warnings.length ? { ...o.details, warnings: o.warnings } : o.details;
    await record({ action: o.action, result: o.result, message: o.message, ...(details ? { details } : {}) });
  }
  const status = outcomes.some((o) => o.result === 'failed') ? 'failed' : outcomes.some((o) => o.result === 'ok') ? 'ok' : 'noop';
  await record({ action: 'release:end', result: status === 'failed' ? 'failed' : status, message: outcomes.map((o) => `${o.action} ${o.keptBy ? `kept by ${o.keptBy.join(', ')}` : o.result}`).join(', ') });
  return { caseId: store.id, container: target, status, outcomes, kept, warnings, custodyFile, sealed };
}

/** This case lets go of the measure, but it stays in force: other open cases rely on it. */
function keptOutcome(action: string, measure: Measure, keptBy: string[]): UndoOutcome {
  const who = keptBy.map((c) => `case ${c}`).join(', ');
  return {
    action,
    result: 'noop',
    message: `kept by ${who}: ${keptBy.length > 1 ? 'they still hold' : 'it still holds'} ${LABEL[measure]} on this container, so it stays in force (release ${keptBy.length > 1 ? 'those cases' : 'that case'} to undo it)`,
    details: { keptBy },
    keptBy,
    warnings: [],
  };
}
