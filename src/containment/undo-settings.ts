import type Docker from 'dockerode';
import { currentLimits } from '../actions/contain-limit.js';
import { normalisePolicy } from '../actions/contain-restart-policy.js';
import { humanBytes } from '../util/format.js';
import type { Limits, LimitRecord, RestartPolicyRecord } from './records.js';

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

/** Restores the restart policy the container had before the case's first change. */
export async function undoRestartPolicy(docker: Docker, info: Docker.ContainerInspectInfo, records: RestartPolicyRecord[]): Promise<UndoOutcome> {
  const id = info.Id;
  const action = 'release:restart-policy';
  if (!records.length) return { action, result: 'noop', message: 'the case did not change the restart policy', warnings: [] };
  const original = records[0].before;
  const now = normalisePolicy(info.HostConfig?.RestartPolicy);
  if (now.Name === original.Name && now.MaximumRetryCount === original.MaximumRetryCount) {
    return { action, result: 'noop', message: `restart policy is already ${original.Name}`, warnings: [] };
  }
  await docker.getContainer(id).update({ RestartPolicy: original });
  return { action, result: 'ok', message: `restart policy ${now.Name} → ${original.Name}`, details: { before: now, after: original }, warnings: [] };
}

/**
 * Restores the limits the container had before the case's first contain:limit. The engine
 * (API 1.41) treats 0 as "leave unchanged", so a CPU or memory cap cannot be removed again:
 * release lifts it to the whole host (all CPUs, all memory) instead, and says so.
 */
export async function undoLimits(docker: Docker, info: Docker.ContainerInspectInfo, records: LimitRecord[]): Promise<UndoOutcome> {
  const id = info.Id;
  const action = 'release:limit';
  const warnings: string[] = [];
  if (!records.length) return { action, result: 'noop', message: 'the case did not change resource limits', warnings };
  const original = records[0].before;
  const touched = new Set(records.flatMap((r) => Object.keys(r.after) as (keyof Limits)[]));
  const now = currentLimits(info);
  const update: Partial<Limits> = {};
  for (const k of touched) if (now[k] !== original[k]) Object.assign(update, { [k]: original[k] });
  if (!Object.keys(update).length) return { action, result: 'noop', message: 'limits are already as before', warnings };

  if (update.PidsLimit !== undefined && !original.PidsLimit) update.PidsLimit = -1;
  // -1 is how the engine spells "no quota" for these two (0 would mean "unchanged").
  if (update.CpuQuota !== undefined && !original.CpuQuota) update.CpuQuota = -1;
  let hostInfo: Promise<{ NCPU: number; MemTotal: number }> | undefined;
  const host = () => (hostInfo ??= docker.info());
  if ('NanoCpus' in update && !original.NanoCpus) {
    const { NCPU } = await host();
    update.NanoCpus = NCPU * 1e9;
    warnings.push(`the engine cannot remove a CPU cap once set; raised it to all ${NCPU} CPUs of the host (recreate the container to remove it)`);
  }
  if (('Memory' in update || 'MemorySwap' in update) && !original.Memory) {
    const { MemTotal } = await host();
    // Memory plus as much swap again: what the docker CLI gives for --memory alone.
    Object.assign(update, { Memory: MemTotal, MemorySwap: MemTotal * 2 });
    warnings.push(`the engine cannot remove a memory cap once set; raised it to the host's ${humanBytes(MemTotal)} (recreate the container to remove it)`);
  } else if ('Memory' in update || 'MemorySwap' in update) {
    // The engine checks memory against swap: both go back together.
    Object.assign(update, { Memory: original.Memory, MemorySwap: original.MemorySwap });
    if (original.MemorySwap === -1) {
      // cgroup v1: raising memory while swap is given as -1 fails (runc writes memory first); go via a finite swap.
      await docker.getContainer(id).update({ ...update, MemorySwap: original.Memory * 2 });
    }
  }
  await docker.getContainer(id).update(update);
  return { action, result: 'ok', message: `limits restored (${Object.keys(update).join(', ')})`, details: { before: now, after: update }, warnings };
}

/** Unpauses the container if the case paused it and it is still paused. */
export async function undoPause(docker: Docker, info: Docker.ContainerInspectInfo, pausedByCase: boolean): Promise<UndoOutcome> {
  const action = 'release:unpause';
  if (!pausedByCase) return { action, result: 'noop', message: 'the case did not pause the container (or unpaused it already)', warnings: [] };
  if (!info.State.Paused) return { action, result: 'noop', message: `container is ${info.State.Status}, not paused`, warnings: [] };
  await docker.getContainer(info.Id).unpause();
  return { action, result: 'ok', message: 'unpaused', warnings: [] };
}
