import { runNamespaceHelper } from '../docker/helper.js';
import type { ActionContext } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { BoundedBuffer } from '../util/streams.js';

/**
 * Reads the target's /proc/1/mountinfo through a helper container joined to its pid namespace
 * (remote engine: the host's /proc is out of reach). The kernel prints a task's mount points
 * relative to that task's own root, so the text is the same as read from the engine's host.
 */
export async function mountInfoViaHelper(ctx: ActionContext, image: string, max: number): Promise<{ text: string; cut: boolean; helper: string }> {
  const kept = new BoundedBuffer(max);
  const r = await runNamespaceHelper(ctx.docker, {
    targetId: ctx.target.id,
    targetName: ctx.target.name,
    image,
    script: 'cat /proc/1/mountinfo',
    stdout: kept.sink(),
    labels: { 'cirt.case': ctx.case.id, 'cirt.step': ctx.stepId },
    signal: ctx.signal,
    timeoutMs: 60_000,
  });
  if (r.exitCode !== 0) {
    throw new FailureError(`helper container ${r.name} (image ${safeText(image)}) for ${safeText(ctx.target.name)} exited ${r.exitCode}: ${safeText(r.stderr.trim().slice(0, 300)) || 'no output'}`, {
      hint: 'The helper image needs /bin/sh and cat (busybox has them): pass `helperImage:` naming such a local image.',
    });
  }
  const text = kept.text();
  return { text: kept.cut ? text.slice(0, text.lastIndexOf('\n') + 1) : text, cut: kept.cut, helper: r.name };
}
