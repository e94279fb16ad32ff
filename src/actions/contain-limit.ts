import { z } from 'zod';
import {
  RECORD_PATHS,
  containerRef,
  type LimitRecord,
  type Limits,
  isLimitRecord,
} from '../containment/records.js';
import { defineAction } from '../runner/action.js';
import { humanBytes } from '../util/format.js';
import { parseByteSize } from '../util/size.js';

/** The engine refuses memory limits under 6 MiB. */
const MIN_MEMORY = 6 * 1024 * 1024;

export const containLimit = defineAction({
  name: 'contain:limit',
  description:
    'Cap CPU, memory and/or the number of processes of a running container (e.g. to starve a miner or a fork bomb ' +
    'while evidence is collected). Memory is capped without extra swap. Previous values are recorded for `cirt release`.',
  example: [
    '- id: starve',
    '  uses: contain:limit',
    '  with:',
    '    cpus: 0.1',
    '    memory: 256m',
    '    pidsLimit: 64',
  ].join('\n'),
  params: z
    .strictObject({
      cpus: z
        .number()
        .positive()
        .max(1024)
        .optional()
        .describe('CPU cap in CPUs, e.g. 0.1 for a tenth of one CPU.'),
      memory: z
        .string()
        .refine(
          (s) => (parseByteSize(s) ?? 0) >= MIN_MEMORY,
          'a size of at least 6m, like 256m or 1g',
        )
        .optional()
        .describe(
          'Memory cap like 256m or 1g (binary units; at least 6m). Swap is capped to the same value.',
        ),
      pidsLimit: z
        .number()
        .int()
        .min(1)
        .max(4194304)
        .optional()
        .describe('Maximum number of processes and threads.'),
    })
    .refine((p) => p.cpus !== undefined || p.memory !== undefined || p.pidsLimit !== undefined, {
      message: 'give at least one of cpus, memory, pidsLimit',
    }),
  mutates: true,
  plan: (p, t) =>
    `cap ${t.name} to ${describe(p)} (previous limits are recorded; cirt release restores them)`,
  needs: ['inspect', 'limits'],
  async run(ctx, p) {
    const facts = await ctx.facts();
    const ref = containerRef(facts);
    const { before, after } = ctx.runtime.planLimits(facts, {
      cpus: p.cpus,
      memory: p.memory !== undefined ? (parseByteSize(p.memory) ?? 0) : undefined,
      pids: p.pidsLimit,
    });
    if (!Object.keys(after).length)
      return {
        status: 'noop',
        summary: `${ref.name} already has ${describe(p)}`,
        details: { limits: before },
      };
    const record: LimitRecord = {
      schema: 'cirt.containment.limit/1',
      container: ref,
      caseId: ctx.case.id,
      before,
      after,
      changedAt: new Date().toISOString(),
    };
    const written = await ctx.writeJson(RECORD_PATHS.limit, record, facts.source);
    await ctx.runtime.setLimits(ref, after);
    return {
      status: 'ok',
      summary: `capped ${ref.name} to ${describe(p)}`,
      details: { before, after, record: written.path },
    };
  },
  undo: {
    action: 'release:limit',
    key: 'limits',
    label: 'the resource limits',
    validRecord: isLimitRecord,
    order: 2,
    tracks: 'records',
    /** Restores the limits the container had before the case's first contain:limit, as far as the runtime can. */
    async run({ runtime, facts }, { records }: { records: LimitRecord[] }) {
      if (!records.length)
        return { result: 'noop', message: 'the case did not change resource limits', warnings: [] };
      const touched = [
        ...new Set(records.flatMap((r) => Object.keys(r.after) as (keyof Limits)[])),
      ];
      return runtime.restoreLimits(facts, records[0].before, touched);
    },
  },
});

function describe(p: { cpus?: number; memory?: string; pidsLimit?: number }): string {
  const parts: string[] = [];
  if (p.cpus !== undefined) parts.push(`${p.cpus} CPU`);
  if (p.memory !== undefined)
    parts.push(`${humanBytes(parseByteSize(p.memory) ?? 0)} memory (no extra swap)`);
  if (p.pidsLimit !== undefined) parts.push(`${p.pidsLimit} processes`);
  return parts.join(', ');
}
