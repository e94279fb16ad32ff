import { UserError } from '../errors.js';
import type { ContainerRuntime, Target } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';
import type { LoadedAlert } from './alert.js';

const NOTHING = 'nothing was touched';
const show = (t: Target): string => `${safeText(t.name)} (${t.id.slice(0, 12)})`;

/**
 * The container an alert is about, checked before anything is touched: its id (exact, see
 * findByAlertId) and its name (exact) must be the same container, and a --target given as well must
 * be that container too. Any disagreement is a usage error naming both sides.
 */
export async function resolveAlertTarget(
  runtime: ContainerRuntime,
  alert: LoadedAlert,
  targetRef?: string,
): Promise<Target> {
  const at = safeText(alert.where);
  const byId = alert.id ? await runtime.findById(alert.id) : undefined;
  if (alert.id && !byId) {
    throw new UserError(`No container has the id ${alert.id} from the alert in ${at}; ${NOTHING}`, {
      hint: 'Run `cirt ps -a` to list containers (it may already be gone).',
    });
  }
  const byName = alert.name !== undefined ? await runtime.findByName(alert.name) : undefined;
  if (byId && alert.name !== undefined && byName?.id !== byId.id) {
    const other = byName
      ? `, which is container ${show(byName)}`
      : ', and no container has that name';
    throw new UserError(
      `The alert in ${at} disagrees with itself: container.id ${alert.id} is container ${show(byId)}, but container.name is "${safeText(alert.name)}"${other}; ${NOTHING}`,
      {
        hint: 'Check what produced the alert. To act on a container you have checked, name it with --target and no --alert.',
      },
    );
  }
  const fromAlert = byId ?? byName;
  if (!fromAlert) {
    throw new UserError(
      `No container is named "${safeText(alert.name ?? '')}" (container.name of the alert in ${at}); ${NOTHING}`,
      {
        hint: 'Run `cirt ps -a` to list containers (it may already be gone).',
      },
    );
  }
  if (targetRef === undefined) return fromAlert;
  const named = await runtime.resolve(targetRef);
  if (named.id !== fromAlert.id) {
    throw new UserError(
      `--target ${safeText(targetRef)} is container ${show(named)}, but the alert in ${at} is about container ${show(fromAlert)}; ${NOTHING}`,
      {
        hint: 'Drop --target to act on the container the alert names, or drop --alert to act on the one you named.',
      },
    );
  }
  return fromAlert;
}
