import type Docker from 'dockerode';
import { TargetGoneError } from '../errors.js';
import { engineStatus, isNoSuchContainer } from './errors.js';
import { safeText } from '../util/sanitize.js';

/**
 * Whether the engine still knows the container (and is not removing it). A 404 on `GET /archive` means either "no such
 * container" or "no such path"; only asking about the container itself tells them apart for sure.
 */
export async function containerExists(docker: Docker, id: string): Promise<boolean> {
  try {
    const info = await docker.getContainer(id).inspect();
    // `docker rm -f` unmounts the filesystem before the id disappears: archive requests then answer
    // "Could not find the file" while inspect still shows the container, as removing (or dead).
    return info.State?.Status !== 'removing' && info.State?.Status !== 'dead';
  } catch (err) {
    if (engineStatus(err) === 404) return false;
    // Unknown (engine unreachable…): not evidence that it is gone.
    return true;
  }
}

/**
 * `err` as a TargetGoneError when the container is gone (the engine said so, or a fresh inspect
 * finds nothing), otherwise `err` unchanged. `what` says what could not be done.
 */
export async function goneOr(err: unknown, docker: Docker, target: { id: string; name: string }, what?: string): Promise<unknown> {
  if (err instanceof TargetGoneError) return err;
  if (isNoSuchContainer(err) || !(await containerExists(docker, target.id))) {
    return new TargetGoneError(`${safeText(target.name)} (${target.id.slice(0, 12)})`, { what, cause: err });
  }
  return err;
}

/** Throws TargetGoneError when the container is gone; `what` says what that leaves uncollected. */
export async function assertTargetPresent(docker: Docker, target: { id: string; name: string }, what: string): Promise<void> {
  if (!(await containerExists(docker, target.id))) throw new TargetGoneError(`${safeText(target.name)} (${target.id.slice(0, 12)})`, { what });
}
