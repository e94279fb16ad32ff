import type { ContainerFacts, ContainerRuntime } from '../runtime/types.js';
import type { Limits, LimitRecord, RestartPolicyRecord } from './records.js';

/** One undo, as release reports it and custody records it. */
export interface UndoOutcome {
  action: string;
  result: 'ok' | 'noop' | 'failed';
  message: string;
  details?: Record<string, unknown>;
  warnings: string[];
}

/** Restores the restart policy the container had before the case's first change. */
export async function undoRestartPolicy(runtime: ContainerRuntime, facts: ContainerFacts, records: RestartPolicyRecord[]): Promise<UndoOutcome> {
  const action = 'release:restart-policy';
  if (!records.length) return { action, result: 'noop', message: 'the case did not change the restart policy', warnings: [] };
  const original = records[0].before;
  const now = facts.restartPolicy;
  if (now.Name === original.Name && now.MaximumRetryCount === original.MaximumRetryCount) {
    return { action, result: 'noop', message: `restart policy is already ${original.Name}`, warnings: [] };
  }
  await runtime.setRestartPolicy(facts, original);
  return { action, result: 'ok', message: `restart policy ${now.Name} → ${original.Name}`, details: { before: now, after: original }, warnings: [] };
}

/** Restores the limits the container had before the case's first contain:limit (as far as the runtime can). */
export async function undoLimits(runtime: ContainerRuntime, facts: ContainerFacts, records: LimitRecord[]): Promise<UndoOutcome> {
  const action = 'release:limit';
  if (!records.length) return { action, result: 'noop', message: 'the case did not change resource limits', warnings: [] };
  const touched = [...new Set(records.flatMap((r) => Object.keys(r.after) as (keyof Limits)[]))];
  return { action, ...(await runtime.restoreLimits(facts, records[0].before, touched)) };
}

/** Unpauses the container if the case paused it and it is still paused. */
export async function undoPause(runtime: ContainerRuntime, facts: ContainerFacts, pausedByCase: boolean): Promise<UndoOutcome> {
  const action = 'release:unpause';
  if (!pausedByCase) return { action, result: 'noop', message: 'the case did not pause the container (or unpaused it already)', warnings: [] };
  if (!facts.state.paused) return { action, result: 'noop', message: `container is ${facts.state.status}, not paused`, warnings: [] };
  await runtime.unpause(facts);
  return { action, result: 'ok', message: 'unpaused', warnings: [] };
}
