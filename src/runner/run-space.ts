import type { ContainerRuntime } from '../runtime/types.js';
import type { CaseStore } from '../evidence/case-store.js';
import { freeSpace, lowSpaceWarning } from '../evidence/free-space.js';
import path from 'node:path';

/** How long the size=true inspect may take (the engine walks the writable layer) before we go on without it. */
const SIZE_TIMEOUT_MS = 5_000;

/** The writable layer's size (inspect size=true: SizeRw), or undefined when the engine does not say in time. */
async function writableLayerBytes(
  runtime: ContainerRuntime,
  id: string,
  name: string,
): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  // A size we cannot learn only weakens the warning: never a reason to fail the run.
  const inspect = Promise.resolve()
    .then(() => runtime.writableLayerBytes({ id, name }))
    .catch(() => undefined);
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), SIZE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([inspect, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Before a run collects anything: warns when the cases folder's filesystem is low on space, and
 * holds the store's reserve so a full disk still leaves room to record the failure.
 */
export async function spaceWarnings(
  runtime: ContainerRuntime,
  target: { id: string; name: string },
  store: CaseStore,
): Promise<string[]> {
  const casesDir = path.dirname(store.root);
  const [space, sizeRw] = await Promise.all([
    freeSpace(casesDir),
    writableLayerBytes(runtime, target.id, target.name),
  ]);
  const warnings: string[] = [];
  const low = lowSpaceWarning(casesDir, space, sizeRw);
  if (low) warnings.push(low);
  if (!(await store.holdReserve()))
    warnings.push(
      `the cases folder ${casesDir} has no room for the 1 MiB kept back to record failures: the disk is full`,
    );
  return warnings;
}
