import type { Writable } from 'node:stream';
import { SectionSplitter } from './sections.js';
import type { ActionContext } from '../runner/action.js';
import { FailureError, InterruptedError } from '../errors.js';
import { HelperMountContent, type OpenTar } from './mount-helper-content.js';
import { mountWalkScript, WALK_LABEL } from './mount-helper-script.js';
import type { ContentLimits } from './mount-index.js';
import type { MountRecord } from './mount-plan.js';
import { safeText } from '../util/sanitize.js';
import { BoundedBuffer } from '../util/streams.js';

/**
 * Reads the target's /proc/1/mountinfo through a helper container joined to its pid namespace
 * (remote engine: the host's /proc is out of reach). The kernel prints a task's mount points
 * relative to that task's own root, so the text is the same as read from the engine's host.
 */
export async function mountInfoViaHelper(
  ctx: ActionContext,
  image: string,
  max: number,
): Promise<{ text: string; cut: boolean; helper: string }> {
  const kept = new BoundedBuffer(max);
  const r = await ctx.runtime.runHelper({
    target: ctx.target,
    image,
    script: 'cat /proc/1/mountinfo',
    stdout: kept.sink(),
    labels: { 'cirt.case': ctx.case.id, 'cirt.step': ctx.stepId },
    signal: ctx.signal,
    timeoutMs: 60_000,
  });
  if (r.exitCode !== 0) {
    throw new FailureError(
      `helper container ${r.name} (image ${safeText(image)}) for ${safeText(ctx.target.name)} exited ${r.exitCode}: ${safeText(r.stderr.trim().slice(0, 300)) || 'no output'}`,
      {
        hint: 'The helper image needs /bin/sh and cat (busybox has them): pass `helperImage:` naming such a local image.',
      },
    );
  }
  const text = kept.text();
  return {
    text: kept.cut ? text.slice(0, text.lastIndexOf('\n') + 1) : text,
    cut: kept.cut,
    helper: r.name,
  };
}

/**
 * Collects the content of `mounts` through a helper container joined to the target's pid
 * namespace, walking /proc/1/root (mount-helper-script.ts), into the same tar and index artifacts
 * the local walk writes. Budgets are enforced in the helper and again here; a helper that sends
 * more than its budget, or runs past `timeoutMs`, is removed and what it sent is kept as partial.
 */
export async function mountContentViaHelper(
  ctx: ActionContext,
  image: string,
  mounts: MountRecord[],
  limits: ContentLimits,
  index: Writable,
  openTar: OpenTar,
  timeoutMs: number,
  helper: string,
): Promise<{ content: HelperMountContent; failure?: Error }> {
  const stopper = new AbortController();
  const content = new HelperMountContent(
    index,
    limits,
    mounts,
    openTar,
    (m) => m.kind === 'tmpfs',
    (why) => stopper.abort(new Error(why)),
  );
  const splitter = new SectionSplitter(content.open, WALK_LABEL);
  let failure: Error | undefined;
  try {
    const r = await ctx.runtime.runHelper({
      target: ctx.target,
      image,
      script: mountWalkScript(mounts, limits),
      stdout: splitter,
      labels: { 'cirt.case': ctx.case.id, 'cirt.step': ctx.stepId },
      signal: AbortSignal.any([ctx.signal, stopper.signal]),
      timeoutMs,
      name: helper,
    });
    if (r.exitCode !== 0) {
      failure = new FailureError(
        `helper container ${r.name} (image ${safeText(image)}) for ${safeText(ctx.target.name)} exited ${r.exitCode}: ${safeText(r.stderr.trim().slice(0, 300)) || 'no output'}`,
        {
          hint: 'The helper image needs /bin/sh, stat, head, readlink, wc and cat (busybox has them): pass `helperImage:` naming such a local image.',
        },
      );
    }
  } catch (err) {
    if (ctx.signal.aborted || content.writeFailed) {
      const stop = ctx.signal.aborted
        ? new InterruptedError(
            'interrupted while collecting mount content through a helper container',
          )
        : (err as Error);
      // The open tar is closed (marked incomplete) before the step ends: what arrived is kept.
      await content.abandon(stop);
      throw stop;
    }
    failure = stopper.signal.aborted
      ? new FailureError(
          `the helper container was stopped: ${content.overBudget ?? 'it sent what was not asked for'}`,
        )
      : (err as Error);
  }
  if (failure) await content.abandon(failure);
  await content.flushLines();
  return { content, ...(failure ? { failure } : {}) };
}
