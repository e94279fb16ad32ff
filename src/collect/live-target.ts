import type Docker from 'dockerode';
import type { ActionContext } from '../runner/action.js';
import { PreconditionError } from '../errors.js';
import { hostProcUsable } from '../host/proc.js';
import { safeText } from '../util/sanitize.js';

/**
 * Fresh inspect of the target, which must have processes (running or paused): a stopped
 * container has no /proc entries and no namespaces to read.
 */
export async function requireLiveTarget(ctx: ActionContext, what: string): Promise<Docker.ContainerInspectInfo> {
  const info = await ctx.inspect();
  if (!info.State.Pid) {
    throw new PreconditionError(`container ${safeText(ctx.target.name)} is ${info.State.Status}: it has no processes, so there are no ${what} to read`, {
      hint: 'This step needs a running or paused container (pause it with contain:pause instead of stopping it). What remains can still be collected with collect:inspect, collect:logs and collect:fs-diff.',
    });
  }
  return info;
}

/** Whether this run may read the target's processes from the host's /proc, and why not. */
export async function hostView(ctx: ActionContext, pid: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!ctx.engine.local) return { ok: false, reason: `the engine at ${ctx.engine.address} is remote` };
  return hostProcUsable(pid, ctx.target.id);
}
