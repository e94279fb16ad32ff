import { hintSuffix } from '../errors.js';
import { runtimeMessage } from '../runtime/errors.js';
import type { ContainerFacts, ContainerRuntime } from '../runtime/types.js';
import type { CaseStore } from '../evidence/case-store.js';
import type { CustodyInput } from '../evidence/custody.js';
import { POST_SEAL_FILE, PostSealCustody } from '../evidence/post-seal-custody.js';
import type { AnyAction } from '../runner/action.js';
import { outstanding, type Pending } from './history.js';

/** One undo, as release reports it and custody records it. */
export interface UndoOutcome {
  action: string;
  result: 'ok' | 'noop' | 'failed';
  message: string;
  details?: Record<string, unknown>;
  warnings: string[];
}

export interface ReleaseReport {
  caseId: string;
  container: { id: string; name: string };
  status: 'ok' | 'noop' | 'failed';
  outcomes: UndoOutcome[];
  /** The custody file the release records went to (custody.post-seal.jsonl for a sealed case). */
  custodyFile: string;
  sealed: boolean;
}

/**
 * Undoes what a case's containment changed, with the undo each action declares, in their release
 * order (restart policy, limits, networks, then pause: the reverse of the contain playbook). Every
 * undo is its own custody record, failures too; one failing undo does not stop the others.
 */
export async function releaseCase(runtime: ContainerRuntime, store: CaseStore, actor: string, actions: readonly AnyAction[]): Promise<ReleaseReport> {
  const target = { id: store.caseInfo.target.id, name: store.caseInfo.target.name };
  const sealed = store.sealed;
  const postSeal = sealed ? PostSealCustody.open(store.root) : undefined;
  const record = (input: Omit<CustodyInput, 'actor' | 'target'>) =>
    (postSeal ? postSeal.append({ actor, target, ...input }) : store.record({ actor, target, ...input })).then(() => undefined);
  const custodyFile = sealed ? POST_SEAL_FILE : 'custody.jsonl';

  let todo: Pending[];
  // One inspect for every undo: each reads only the fields it alone changes.
  let facts: ContainerFacts;
  try {
    // The records each log checked when it opened: the sealed chain and, after sealing, its continuation.
    todo = outstanding(store.root, (postSeal ?? store.custody).records, actions);
    facts = await runtime.inspect(target);
  } catch (err) {
    await record({ action: 'release:start', result: 'failed', params: { case: store.id }, message: runtimeMessage(err) });
    throw err;
  }
  await record({
    action: 'release:start',
    result: 'info',
    params: { case: store.id },
    details: {
      ...Object.fromEntries(todo.map((p) => [p.undo.key, p.undo.tracks === 'records' ? p.records.length : p.applied])),
      sealed,
    },
  });
  const steps: [string, () => Promise<UndoOutcome>][] = todo.map((p) => [
    p.undo.action,
    async () => ({ action: p.undo.action, ...(await p.undo.run({ runtime, facts, caseId: store.id }, p)) }),
  ]);
  const outcomes: UndoOutcome[] = [];
  for (const [action, run] of steps) {
    let o: UndoOutcome;
    try {
      o = await run();
    } catch (err) {
      const hint = hintSuffix(err);
      o = { action, result: 'failed', message: `${runtimeMessage(err)}${hint}`, warnings: [] };
    }
    outcomes.push(o);
    const details = o.warnings.length ? { ...o.details, warnings: o.warnings } : o.details;
    await record({ action: o.action, result: o.result, message: o.message, ...(details ? { details } : {}) });
  }
  const status = outcomes.some((o) => o.result === 'failed') ? 'failed' : outcomes.some((o) => o.result === 'ok') ? 'ok' : 'noop';
  await record({ action: 'release:end', result: status === 'failed' ? 'failed' : status, message: outcomes.map((o) => `${o.action} ${o.result}`).join(', ') });
  return { caseId: store.id, container: target, status, outcomes, custodyFile, sealed };
}
