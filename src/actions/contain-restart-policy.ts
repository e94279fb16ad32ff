import { z } from 'zod';
import {
  RECORD_PATHS,
  containerRef,
  type RestartPolicy,
  type RestartPolicyRecord,
  isRestartPolicyRecord,
} from '../containment/records.js';
import { defineAction } from '../runner/action.js';

const POLICIES = ['no', 'on-failure', 'unless-stopped', 'always'] as const;

export const containRestartPolicy = defineAction({
  name: 'contain:restart-policy',
  description:
    "Set the container's restart policy (default `no`) so the engine does not bring it back after it is stopped, " +
    'killed or crashes. The previous policy is recorded and restored by `cirt release`.',
  example: [
    '- id: no-restart',
    '  uses: contain:restart-policy',
    '  with:',
    '    policy: "no"',
  ].join('\n'),
  params: z
    .strictObject({
      policy: z
        .enum(POLICIES)
        .default('no')
        .describe('New restart policy: no, on-failure, unless-stopped or always.'),
      maximumRetryCount: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .optional()
        .describe('Only with on-failure: how many restarts the engine tries (0 = unlimited).'),
    })
    .refine((p) => p.maximumRetryCount === undefined || p.policy === 'on-failure', {
      message: 'maximumRetryCount only applies to policy on-failure',
      path: ['maximumRetryCount'],
    }),
  mutates: true,
  plan: (p, t) =>
    `set the restart policy of ${t.name} to ${p.policy}${p.maximumRetryCount !== undefined ? ` (max ${p.maximumRetryCount} retries)` : ''} ` +
    '(the previous policy is recorded; cirt release restores it)',
  needs: ['inspect', 'restart-policy'],
  async run(ctx, p) {
    const facts = await ctx.facts();
    const ref = containerRef(facts);
    const before = facts.restartPolicy;
    const after: RestartPolicy = {
      Name: p.policy,
      MaximumRetryCount: p.policy === 'on-failure' ? (p.maximumRetryCount ?? 0) : 0,
    };
    if (before.Name === after.Name && before.MaximumRetryCount === after.MaximumRetryCount) {
      return {
        status: 'noop',
        summary: `restart policy of ${ref.name} is already ${after.Name}`,
        details: { policy: after },
      };
    }
    const record: RestartPolicyRecord = {
      schema: 'cirt.containment.restart-policy/1',
      container: ref,
      caseId: ctx.case.id,
      before,
      after,
      changedAt: new Date().toISOString(),
    };
    const written = await ctx.writeJson(RECORD_PATHS.restartPolicy, record, facts.source);
    await ctx.runtime.setRestartPolicy(ref, after);
    return {
      status: 'ok',
      summary: `restart policy of ${ref.name}: ${before.Name} → ${after.Name}`,
      details: { before, after, record: written.path },
    };
  },
  undo: {
    action: 'release:restart-policy',
    key: 'restartPolicies',
    label: 'the restart policy',
    validRecord: isRestartPolicyRecord,
    order: 1,
    tracks: 'records',
    /** Restores the restart policy the container had before the case's first change. */
    async run({ runtime, facts }, { records }: { records: RestartPolicyRecord[] }) {
      if (!records.length)
        return {
          result: 'noop',
          message: 'the case did not change the restart policy',
          warnings: [],
        };
      const original = records[0].before;
      const now = facts.restartPolicy;
      if (now.Name === original.Name && now.MaximumRetryCount === original.MaximumRetryCount) {
        return {
          result: 'noop',
          message: `restart policy is already ${original.Name}`,
          warnings: [],
        };
      }
      await runtime.setRestartPolicy(facts, original);
      return {
        result: 'ok',
        message: `restart policy ${now.Name} → ${original.Name}`,
        details: { before: now, after: original },
        warnings: [],
      };
    },
  },
});
