import { z } from 'zod';
import { RECORD_PATHS, containerRef, type StopRecord } from '../containment/records.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import { PreconditionError } from '../errors.js';
import type { ContainerFacts } from '../runtime/types.js';

/** Shared by contain:stop and contain:kill: the container must exist and not be on its way out. */
export async function checkStoppable(ctx: ActionContext): Promise<void> {
  const facts = await ctx.facts();
  if (facts.state.status === 'removing' || facts.state.dead) {
    throw new PreconditionError(
      `container ${facts.name} is ${facts.state.status}: nothing to stop`,
    );
  }
}

/** The record written before a stop or kill, and a warning when the engine would start it again. */
export async function recordStop(
  ctx: ActionContext,
  facts: ContainerFacts,
  how: StopRecord['how'],
  path: string,
): Promise<string> {
  const policy = facts.restartPolicy;
  if (
    policy.Name === 'always' ||
    policy.Name === 'unless-stopped' ||
    policy.Name === 'on-failure'
  ) {
    ctx.warn(
      `restart policy of ${facts.name} is ${policy.Name}: the engine may start it again; add contain:restart-policy before this step`,
    );
  }
  const record: StopRecord = {
    schema: 'cirt.containment.stop/1',
    container: containerRef(facts),
    caseId: ctx.case.id,
    how,
    stateBefore: {
      status: facts.state.status,
      pid: facts.state.pid,
      startedAt: facts.state.startedAt,
      restartPolicy: policy,
    },
    at: new Date().toISOString(),
  };
  return (await ctx.writeJson(path, record, facts.source)).path;
}

export const containStop = defineAction({
  name: 'contain:stop',
  description:
    'Stop the container: SIGTERM (or its configured stop signal), then SIGKILL after `timeout` seconds. Destroys the ' +
    'memory and process state of the suspect, so collect those first; asks for approval unless the step says `confirm: false`.',
  example: ['- id: stop', '  uses: contain:stop', '  with:', '    timeout: 10'].join('\n'),
  params: z.strictObject({
    timeout: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(10)
      .describe('Seconds to wait after the stop signal before SIGKILL.'),
  }),
  mutates: true,
  confirmByDefault: true,
  plan: (p, t) =>
    `stop ${t.name} (stop signal, then SIGKILL after ${p.timeout} s): its processes and memory are lost`,
  needs: ['inspect', 'stop'],
  check: checkStoppable,
  async run(ctx, p) {
    const facts = await ctx.facts();
    const ref = containerRef(facts);
    if (!facts.state.running)
      return { status: 'noop', summary: `${ref.name} is already ${facts.state.status}` };
    const record = await recordStop(
      ctx,
      facts,
      { stop: { timeout: p.timeout } },
      RECORD_PATHS.stop,
    );
    await ctx.runtime.stop(ref, p.timeout);
    const after = (await ctx.runtime.inspect({ id: ref.id, name: '' })).state;
    return {
      status: 'ok',
      summary: `stopped ${ref.name} (exit code ${after.exitCode})`,
      details: { exitCode: after.exitCode, state: after.status, record },
    };
  },
});
