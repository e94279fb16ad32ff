import { hintSuffix } from '../errors.js';
import { runtimeMessage } from '../runtime/errors.js';
import type { ContainerFacts, ContainerRuntime } from '../runtime/types.js';
import type { CaseStore } from '../evidence/case-store.js';
import type { CustodyInput } from '../evidence/custody.js';
import { POST_SEAL_FILE, PostSealCustody } from '../evidence/post-seal-custody.js';
import type { AnyAction } from '../runner/action.js';
import { outstanding, readRecords, replay, type Pending, type Replay } from './history.js';
import { otherCases, type OtherCase } from './other-cases.js';

/** One undo, as release reports it and custody records it. */
export interface UndoOutcome {
  action: string;
  result: 'ok' | 'noop' | 'failed';
  message: string;
  details?: Record<string, unknown>;
  warnings: string[];
  /** Other open cases that still hold this measure: release left it in force for them. */
  keptBy?: string[];
}

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

/**
 * Undoes what a case's containment changed, with the undo each action declares, in their release
 * order (restart policy, limits, networks, then pause: the reverse of the contain playbook). Every
 * undo is its own custody record, failures too; one failing undo does not stop the others. A
 * measure another open case on the same container still holds stays in force, and the record says
 * which case keeps it; the last case to release it restores the state from the earliest record of
 * any of them.
 */
export async function releaseCase(
  runtime: ContainerRuntime,
  store: CaseStore,
  actor: string,
  actions: readonly AnyAction[],
  opts: { otherRoots?: readonly string[] } = {},
): Promise<ReleaseReport> {
  const target = { id: store.caseInfo.target.id, name: store.caseInfo.target.name };
  const sealed = store.sealed;
  const postSeal = sealed ? PostSealCustody.open(store.root) : undefined;
  const record = (input: Omit<CustodyInput, 'actor' | 'target'>) =>
    (postSeal
      ? postSeal.append({ actor, target, ...input })
      : store.record({ actor, target, ...input })
    ).then(() => undefined);
  const custodyFile = sealed ? POST_SEAL_FILE : 'custody.jsonl';

  let todo: Pending[];
  let mine: Replay;
  let others: OtherCase[];
  let warnings: string[];
  // One inspect for every undo: each reads only the fields it alone changes.
  let facts: ContainerFacts;
  try {
    // The records each log checked when it opened: the sealed chain and, after sealing, its continuation.
    const records = (postSeal ?? store.custody).records;
    todo = outstanding(store.root, records, actions);
    mine = replay(records, actions);
    ({ cases: others, warnings } = otherCases(
      { root: store.root, targetId: target.id },
      actions,
      opts.otherRoots,
    ));
    facts = await runtime.inspect(target);
  } catch (err) {
    await record({
      action: 'release:start',
      result: 'failed',
      params: { case: store.id },
      message: runtimeMessage(err),
    });
    throw err;
  }
  const holders = (key: string): string[] =>
    others.filter((c) => c.replay.holds.has(key)).map((c) => c.caseId);
  await record({
    action: 'release:start',
    result: 'info',
    params: { case: store.id },
    details: {
      ...Object.fromEntries(
        todo.map((p) => [p.undo.key, p.undo.tracks === 'records' ? p.records.length : p.applied]),
      ),
      sealed,
      otherCases: others.map((c) => ({ case: c.caseId, holds: [...c.replay.holds] })),
      ...(warnings.length ? { warnings } : {}),
    },
  });
  // Since the last time any case really undid a measure, what other cases kept in force for this one.
  const lastUndone = (key: string): string =>
    [mine, ...others.map((c) => c.replay)]
      .map((r) => r.undoneAt[key] ?? '')
      .sort()
      .at(-1) ?? '';
  const inherited = (p: Pending): unknown[] => {
    const key = p.undo.key;
    const since = lastUndone(key);
    const refs = [
      ...(mine.pending[key] ?? []).map((ref) => ({ root: store.root, ref })),
      ...others.flatMap((c) =>
        (c.replay.kept[key] ?? [])
          .filter((k) => k.keptAt > since)
          .map((ref) => ({ root: c.root, ref })),
      ),
    ];
    // Earliest first: each undo restores from records[0], the state before the first case changed it.
    refs.sort((a, b) => (a.ref.at < b.ref.at ? -1 : a.ref.at > b.ref.at ? 1 : 0));
    return refs.map((r) => readRecords(r.root, [r.ref], p.undo)[0]);
  };
  const appliedForMe = (p: Pending): boolean => {
    const key = p.undo.key;
    const since = lastUndone(key);
    return (
      p.applied ||
      others.some(
        (c) => c.replay.appliedKeptAt[key] !== undefined && c.replay.appliedKeptAt[key] > since,
      )
    );
  };

  const outcomes: UndoOutcome[] = [];
  const kept: ReleaseReport['kept'] = [];
  for (const p of todo) {
    const action = p.undo.action;
    let o: UndoOutcome;
    const keptBy = mine.holds.has(p.undo.key) ? holders(p.undo.key) : [];
    if (keptBy.length) {
      o = keptOutcome(action, p.undo.label, keptBy);
      kept.push({ action, measure: p.undo.label.replace(/^the /, ''), keptBy });
    } else {
      try {
        const records = p.undo.tracks === 'records' ? inherited(p) : p.records;
        o = {
          action,
          ...(await p.undo.run(
            { runtime, facts, caseId: store.id },
            {
              records,
              applied: p.undo.tracks === 'records' ? records.length > 0 : appliedForMe(p),
            },
          )),
        };
      } catch (err) {
        const hint = hintSuffix(err);
        o = { action, result: 'failed', message: `${runtimeMessage(err)}${hint}`, warnings: [] };
      }
    }
    outcomes.push(o);
    const details = o.warnings.length ? { ...o.details, warnings: o.warnings } : o.details;
    await record({
      action: o.action,
      result: o.result,
      message: o.message,
      ...(details ? { details } : {}),
    });
  }
  const status = outcomes.some((o) => o.result === 'failed')
    ? 'failed'
    : outcomes.some((o) => o.result === 'ok')
      ? 'ok'
      : 'noop';
  await record({
    action: 'release:end',
    result: status === 'failed' ? 'failed' : status,
    message: outcomes
      .map((o) => `${o.action} ${o.keptBy ? `kept by ${o.keptBy.join(', ')}` : o.result}`)
      .join(', '),
  });
  return {
    caseId: store.id,
    container: target,
    status,
    outcomes,
    kept,
    warnings,
    custodyFile,
    sealed,
  };
}

/** This case lets go of the measure, but it stays in force: other open cases rely on it. */
function keptOutcome(action: string, label: string, keptBy: string[]): UndoOutcome {
  const who = keptBy.map((c) => `case ${c}`).join(', ');
  return {
    action,
    result: 'noop',
    message: `kept by ${who}: ${keptBy.length > 1 ? 'they still hold' : 'it still holds'} ${label} on this container, so it stays in force (release ${keptBy.length > 1 ? 'those cases' : 'that case'} to undo it)`,
    details: { keptBy },
    keptBy,
    warnings: [],
  };
}
