import type Docker from 'dockerode';
import type { ContainerFacts, Limits, RestoreOutcome } from '../runtime/types.js';
import { humanBytes } from '../util/format.js';

/** The resource fields of an inspected container that contain:limit may change. */
export function currentLimits(info: Docker.ContainerInspectInfo): Limits {
  const h = (info.HostConfig ?? {}) as Docker.HostConfig;
  return {
    NanoCpus: h.NanoCpus ?? 0,
    CpuQuota: h.CpuQuota ?? 0,
    CpuPeriod: h.CpuPeriod ?? 0,
    Memory: h.Memory ?? 0,
    MemorySwap: h.MemorySwap ?? 0,
    PidsLimit: h.PidsLimit ?? null,
  };
}

/** The fields to update for a request (only those that change), against the current limits. */
export function planLimits(
  facts: ContainerFacts,
  want: { cpus?: number; memory?: number; pids?: number },
): { before: Limits; after: Partial<Limits> } {
  const before = facts.limits;
  const wanted: Partial<Limits> = {};
  if (want.cpus !== undefined) {
    // A container already using quota/period cannot also get NanoCpus (the engine refuses both).
    if (before.CpuQuota > 0 || before.CpuPeriod > 0)
      Object.assign(wanted, { CpuPeriod: 100_000, CpuQuota: Math.round(want.cpus * 100_000) });
    else wanted.NanoCpus = Math.round(want.cpus * 1e9);
  }
  if (want.memory !== undefined)
    Object.assign(wanted, { Memory: want.memory, MemorySwap: want.memory });
  if (want.pids !== undefined) wanted.PidsLimit = want.pids;
  const changes = (Object.keys(wanted) as (keyof Limits)[]).filter((k) => wanted[k] !== before[k]);
  return {
    before,
    after: Object.fromEntries(changes.map((k) => [k, wanted[k]])) as Partial<Limits>,
  };
}

/**
 * Restores the limits the container had before the case's first contain:limit. The engine
 * (API 1.41) treats 0 as "leave unchanged", so a CPU or memory cap cannot be removed again:
 * release lifts it to the whole host (all CPUs, all memory) instead, and says so.
 */
export async function restoreLimits(
  docker: Docker,
  facts: ContainerFacts,
  original: Limits,
  touched: (keyof Limits)[],
): Promise<RestoreOutcome> {
  const id = facts.id;
  const warnings: string[] = [];
  const now = facts.limits;
  const update: Partial<Limits> = {};
  for (const k of touched) if (now[k] !== original[k]) Object.assign(update, { [k]: original[k] });
  if (!Object.keys(update).length)
    return { result: 'noop', message: 'limits are already as before', warnings };

  if (update.PidsLimit !== undefined && !original.PidsLimit) update.PidsLimit = -1;
  // -1 is how the engine spells "no quota" for these two (0 would mean "unchanged").
  if (update.CpuQuota !== undefined && !original.CpuQuota) update.CpuQuota = -1;
  let hostInfo: Promise<{ NCPU: number; MemTotal: number }> | undefined;
  const host = () => (hostInfo ??= docker.info());
  if ('NanoCpus' in update && !original.NanoCpus) {
    const { NCPU } = await host();
    update.NanoCpus = NCPU * 1e9;
    warnings.push(
      `the engine cannot remove a CPU cap once set; raised it to all ${NCPU} CPUs of the host (recreate the container to remove it)`,
    );
  }
  if (('Memory' in update || 'MemorySwap' in update) && !original.Memory) {
    const { MemTotal } = await host();
    // Memory plus as much swap again: what the docker CLI gives for --memory alone.
    Object.assign(update, { Memory: MemTotal, MemorySwap: MemTotal * 2 });
    warnings.push(
      `the engine cannot remove a memory cap once set; raised it to the host's ${humanBytes(MemTotal)} (recreate the container to remove it)`,
    );
  } else if ('Memory' in update || 'MemorySwap' in update) {
    // The engine checks memory against swap: both go back together.
    Object.assign(update, { Memory: original.Memory, MemorySwap: original.MemorySwap });
    if (original.MemorySwap === -1) {
      // cgroup v1: raising memory while swap is given as -1 fails (runc writes memory first); go via a finite swap.
      await docker.getContainer(id).update({ ...update, MemorySwap: original.Memory * 2 });
    }
  }
  await docker.getContainer(id).update(update);
  return {
    result: 'ok',
    message: `limits restored (${Object.keys(update).join(', ')})`,
    details: { before: now, after: update },
    warnings,
  };
}
