import type Docker from 'dockerode';
import { RuntimeError } from '../runtime/errors.js';
import { engineStatus } from './errors.js';
import { safeText } from '../util/sanitize.js';

/** Full inspect of a container; a container that is gone is a `gone` runtime error (exit 2) naming it. */
export async function inspectContainer(
  docker: Docker,
  id: string,
  name?: string,
): Promise<Docker.ContainerInspectInfo> {
  try {
    return await docker.getContainer(id).inspect();
  } catch (err) {
    if (engineStatus(err) === 404) {
      throw new RuntimeError(
        'gone',
        `Container ${name ? `${safeText(name)} (${id.slice(0, 12)})` : id.slice(0, 12)} is gone`,
        {
          status: 404,
          hint: 'Run `cirt ps --all` to list containers; a removed container cannot be contained or released.',
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** The container's name without the engine's leading slash. */
export function containerName(info: { Name: string }): string {
  return info.Name.replace(/^\//, '');
}
