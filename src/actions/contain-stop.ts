import type Docker from 'dockerode';
import { z } from 'zod';
import { RECORD_PATHS, containerRef, type StopRecord } from '../containment/records.js';
import { inspectContainer } from '../docker/inspect.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import { PreconditionError } from '../errors.js';
import { normalisePolicy } from './contain-restart-policy.js';

/** Shared by contain:stop and contain:kill: the container must exist and not be on its way out. */
export async function checkStoppable(ctx: ActionContext): Promise<void> {
  const info = await ctx.inspect();
  if (info.State.Status === 'removing' || info.State.Dead) {
    throw new PreconditionError(`container ${containerRef(info).name} is ${info.State.Status}: nothing to stop`);
  }
}

/** The record written before a stop or kill, and a warning when the engine would start it again. */
export async function recordStop(ctx: ActionContext, info: Docker.ContainerInspectInfo, how: StopRecord['how'], path: string): Promise<string> {
  const policy = normalisePolicy(info.HostConfig?.RestartPolicy);
  if (policy.Name === 'always' || policy.Name === 'unless-stopped' || policy.Name === 'on-failure') {
    ctx.warn(`restart policy of ${containerRef(info).name} is ${policy.Name}: the engine may start it again; add contain:restart-policy before this step`);
  }
  const record: StopRecord = {
    schema: 'cirt.containment.stop/1',
    container: containerRef(info),
    caseId: ctx.case.id,
    how,
    stateBefore: { status: info.State.Status, pid: info.State.Pid, startedAt: info.State.StartedAt, restartPolicy: policy },
    at: new Date().toISOString(),
  };
  return (await ctx.writeJson(path, record, `GET /containers/${info.Id}/json`)).path;
}

export const containStop = defineAction({
  name: 'contain:stop',
  description:
    'Stop the container: SIGTERM (or its configured stop signal), then SIGKILL after `timeout` seconds. Destroys the ' +
    'memory and process state of the suspect, so collect those first; asks for approval unless the step says `confirm: false`.',
  example: ['- id: stop', '  uses: contain:stop', '  with:', '    timeout: 10'].join('\n'),
  params: z.strictObject({
    timeout: z.number().int().min(0).max(3600).default(10).describe('Seconds to wait after the stop signal before SIGKILL.'),
  }),
  mutates: true,
  confirmByDefault: true,
  plan: (p, t) => `stop ${t.name} (stop signal, then SIGKILL after ${p.timeout} s): its processes and memory are lost`,
  check: checkStoppable,
  async run(ctx, p) {
    const info = await ctx.inspect();
    const ref = containerRef(info);
    if (!info.State.Running) return { status: 'noop', summary: `${ref.name} is already ${info.State.Status}` };
    const record = await recordStop(ctx, info, { stop: { timeout: p.timeout } }, RECORD_PATHS.stop);
    await ctx.docker.getContainer(ref.id).stop({ t: p.timeout });
    const after = await inspectContainer(ctx.docker, ref.id);
    return {
      status: 'ok',
      summary: `stopped ${ref.name} (exit code ${after.State.ExitCode})`,
      details: { exitCode: after.State.ExitCode, state: after.State.Status, record },
    };
  },
});
