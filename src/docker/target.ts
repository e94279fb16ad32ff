import type Docker from 'dockerode';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import type { Target } from '../runtime/types.js';
import { factsOf, targetOf } from './facts.js';
import { inspectContainer } from './inspect.js';

/** Finds a container by exact name, exact id, or a unique id prefix. */
export async function resolveTarget(docker: Docker, ref: string): Promise<Target> {
  if (!ref || /[\s/]/.test(ref.replace(/^\//, ''))) {
    throw new UserError(`"${safeText(ref)}" is not a container name or id`, {
      hint: 'Run `cirt ps` to list containers.',
    });
  }
  const wanted = ref.replace(/^\//, '');
  const all = await docker.listContainers({ all: true });
  const byName = all.filter((c) => c.Names.some((n) => n.replace(/^\//, '') === wanted));
  const byId = all.filter((c) => c.Id === wanted);
  let match = byName.length ? byName : byId;
  if (!match.length && /^[0-9a-f]{1,64}$/.test(wanted)) {
    match = all.filter((c) => c.Id.startsWith(wanted));
    if (match.length > 1) {
      const names = match
        .map((c) => `${c.Id.slice(0, 12)} (${safeText(c.Names[0]?.replace(/^\//, '') ?? '?')})`)
        .join(', ');
      throw new UserError(`Container id prefix "${wanted}" is ambiguous: ${names}`, {
        hint: 'Give more characters of the id, or the name.',
      });
    }
  }
  if (!match.length) {
    throw new UserError(`No container named "${safeText(wanted)}" or with an id starting with it`, {
      hint: 'Run `cirt ps` to list containers (it may already be gone).',
    });
  }
  return inspectTarget(docker, match[0].Id);
}

/**
 * A container by an id taken from an alert (already checked: 12 or 64 hex): 64 must equal one
 * container's id; 12 must be the start of exactly one container's id. Never a name, never a shorter
 * prefix. Undefined when no container has it.
 */
export async function findByAlertId(docker: Docker, id: string): Promise<Target | undefined> {
  if (!/^(?:[0-9a-f]{12}|[0-9a-f]{64})$/.test(id))
    throw new Error(`findByAlertId: "${id}" is not a 12 or 64 hex id`);
  const all = await docker.listContainers({ all: true });
  const match = all.filter((c) => (id.length === 64 ? c.Id === id : c.Id.startsWith(id)));
  if (match.length > 1) {
    const names = match
      .map((c) => `${c.Id.slice(0, 16)}… (${safeText(c.Names[0]?.replace(/^\//, '') ?? '?')})`)
      .join(', ');
    throw new UserError(
      `Container id ${id} from the alert matches ${match.length} containers: ${names}; nothing was touched`,
      {
        hint: 'Name the container with --target (its full id) and no --alert.',
      },
    );
  }
  return match.length ? inspectTarget(docker, match[0].Id) : undefined;
}

/** A container whose name is exactly `name` (a leading slash ignored): never an id or a prefix. */
export async function findByExactName(docker: Docker, name: string): Promise<Target | undefined> {
  const wanted = name.replace(/^\//, '');
  const all = await docker.listContainers({ all: true });
  const match = all.find((c) => c.Names.some((n) => n.replace(/^\//, '') === wanted));
  return match ? inspectTarget(docker, match.Id) : undefined;
}

export async function inspectTarget(docker: Docker, id: string): Promise<Target> {
  return targetOf(factsOf(await inspectContainer(docker, id)));
}
