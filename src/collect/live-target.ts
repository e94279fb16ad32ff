import { NotApplicableError, PreconditionError } from '../errors.js';
import type { HostView } from '../host/view.js';
import type { ActionContext } from '../runner/action.js';
import type { ContainerFacts } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';

/**
 * Fresh facts of the target, which must have processes (running or paused): a stopped
 * container has no /proc entries and no namespaces to read.
 */
export async function requireLiveTarget(ctx: ActionContext, what: string): Promise<ContainerFacts> {
  const facts = await ctx.facts();
  if (!facts.state.pid) {
    // Exited, created or dead: nothing to read, and nothing went wrong. A restarting container
    // will have processes again soon: that one is a failure to retry, not "does not apply".
    const Err = facts.state.status === 'restarting' ? PreconditionError : NotApplicableError;
    throw new Err(
      `container ${safeText(ctx.target.name)} is ${facts.state.status}: it has no processes, so there are no ${what} to read`,
      {
        hint: 'This step needs a running or paused container (pause it with contain:pause instead of stopping it). What remains can still be collected with collect:inspect, collect:logs and collect:fs-diff.',
      },
    );
  }
  return facts;
}

/** Whether this run may read the target's processes from the host's /proc, and why not. */
export async function hostView(
  ctx: ActionContext,
  pid: number,
): Promise<{ ok: true; host: HostView } | { ok: false; reason: string }> {
  const host = ctx.host;
  if (!host) return { ok: false, reason: `the engine at ${ctx.runtime.info.address} is remote` };
  const usable = await host.usable(pid, ctx.target.id);
  return usable.ok ? { ok: true, host } : usable;
}
