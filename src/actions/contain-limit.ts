import type Docker from 'dockerode';
import { z } from 'zod';
import { RECORD_PATHS, containerRef, type LimitRecord, type Limits } from '../containment/records.js';
import { defineAction } from '../runner/action.js';
import { humanBytes } from '../util/format.js';
import { parseByteSize } from '../util/size.js';

/** The engine refuses memory limits under 6 MiB. */
const MIN_MEMORY = 6 * 1024 * 1024;

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

export const containLimit = defineAction({
  name: 'contain:limit',
  description:
    'Cap CPU, memory and/or the number of processes of a running container (e.g. to starve a miner or a fork bomb ' +
    'while evidence is collected). Memory is capped without extra swap. Previous values are recorded for `cirt release`.',
  example: ['- id: starve', '  uses: contain:limit', '  with:', '    cpus: 0.1', '    memory: 256m', '    pidsLimit: 64'].join('\n'),
  params: z
    .strictObject({
      cpus: z.number().positive().max(1024).optional().describe('CPU cap in CPUs, e.g. 0.1 for a tenth of one CPU.'),
      memory: z
        .string()
        .refine((s) => (parseByteSize(s) ?? 0) >= MIN_MEMORY, 'a size of at least 6m, like 256m or 1g')
        .optional()
        .describe('Memory cap like 256m or 1g (binary units; at least 6m). Swap is capped to the same value.'),
      pidsLimit: z.number().int().min(1).max(4194304).optional().describe('Maximum number of processes and threads.'),
    })
    .refine((p) => p.cpus !== undefined || p.memory !== undefined || p.pidsLimit !== undefined, {
      message: 'give at least one of cpus, memory, pidsLimit',
    }),
  mutates: true,
  plan: (p, t) => `cap ${t.name} to ${describe(p)} (previous limits are recorded; cirt release restores them)`,
  async run(ctx, p) {
    const info = await ctx.inspect();
    const ref = containerRef(info);
    const before = currentLimits(info);
    const wanted: Partial<Limits> = {};
    if (p.cpus !== undefined) {
      // A container already using quota/period cannot also get NanoCpus (the engine refuses both).
      if (before.CpuQuota > 0 || before.CpuPeriod > 0) Object.assign(wanted, { CpuPeriod: 100_000, CpuQuota: Math.round(p.cpus * 100_000) });
      else wanted.NanoCpus = Math.round(p.cpus * 1e9);
    }
    if (p.memory !== undefined) {
      const bytes = parseByteSize(p.memory) ?? 0;
      Object.assign(wanted, { Memory: bytes, MemorySwap: bytes });
    }
    if (p.pidsLimit !== undefined) wanted.PidsLimit = p.pidsLimit;
    const changes = (Object.keys(wanted) as (keyof Limits)[]).filter((k) => wanted[k] !== before[k]);
    if (!changes.length) return { status: 'noop', summary: `${ref.name} already has ${describe(p)}`, details: { limits: before } };
    const after = Object.fromEntries(changes.map((k) => [k, wanted[k]])) as Partial<Limits>;
    const record: LimitRecord = {
      schema: 'cirt.containment.limit/1',
      container: ref,
      caseId: ctx.case.id,
      before,
      after,
      changedAt: new Date().toISOString(),
    };
    const written = await ctx.writeJson(RECORD_PATHS.limit, record, `GET /containers/${ref.id}/json`);
    await ctx.docker.getContainer(ref.id).update(after);
    return { status: 'ok', summary: `capped ${ref.name} to ${describe(p)}`, details: { before, after, record: written.path } };
  },
});

function describe(p: { cpus?: number; memory?: string; pidsLimit?: number }): string {
  const parts: string[] = [];
  if (p.cpus !== undefined) parts.push(`${p.cpus} CPU`);
  if (p.memory !== undefined) parts.push(`${humanBytes(parseByteSize(p.memory) ?? 0)} memory (no extra swap)`);
  if (p.pidsLimit !== undefined) parts.push(`${p.pidsLimit} processes`);
  return parts.join(', ');
}
