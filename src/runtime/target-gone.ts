import { TargetGoneError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { isKind } from './errors.js';
import type { ContainerRef, ContainerRuntime } from './types.js';

/** How long the existence check waits for the runtime. */
const EXISTS_TIMEOUT_MS = 10_000;

/**
 * Whether the runtime still knows the container (and is not removing it). A "not found" from an
 * archive request means either "no such container" or "no such path"; only asking about the
 * container itself tells them apart for sure.
 */
export async function containerExists(
  runtime: ContainerRuntime,
  ref: ContainerRef,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // A runtime that does not answer in time is no evidence that the container is gone.
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), EXISTS_TIMEOUT_MS);
    });
    const facts = await Promise.race([runtime.inspect(ref), late]);
    if (!facts) return true;
    // `docker rm -f` unmounts the filesystem before the id disappears: archive requests then answer
    // "Could not find the file" while inspect still shows the container, as removing (or dead).
    return facts.state.status !== 'removing' && facts.state.status !== 'dead';
  } catch (err) {
    if (isKind(err, 'gone', 'not-found')) return false;
    // Unknown (runtime unreachable…): not evidence that it is gone.
    return true;
  } finally {
    clearTimeout(timer);
  }
}

/** The runtime said the container itself is gone (its error, or one it caused). */
export function isTargetGone(err: unknown): boolean {
  for (
    let e: unknown = err, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (e instanceof TargetGoneError || isKind(e, 'gone')) return true;
  }
  return false;
}

/**
 * `err` as a TargetGoneError when the container is gone (the runtime said so, or a fresh inspect
 * finds nothing), otherwise `err` unchanged. `what` says what could not be done.
 */
export async function goneOr(
  err: unknown,
  runtime: ContainerRuntime,
  target: ContainerRef,
  what?: string,
): Promise<unknown> {
  if (err instanceof TargetGoneError) return err;
  if (isTargetGone(err) || !(await containerExists(runtime, target))) {
    return new TargetGoneError(`${safeText(target.name)} (${target.id.slice(0, 12)})`, {
      what,
      cause: err,
    });
  }
  return err;
}

/** Throws TargetGoneError when the container is gone; `what` says what that leaves uncollected. */
export async function assertTargetPresent(
  runtime: ContainerRuntime,
  target: ContainerRef,
  what: string,
): Promise<void> {
  if (!(await containerExists(runtime, target)))
    throw new TargetGoneError(`${safeText(target.name)} (${target.id.slice(0, 12)})`, { what });
}
