import fs from 'node:fs';
import { humanBytes } from '../util/format.js';

/** Below this much free space on the cases folder's filesystem, a run warns before collecting. */
export const LOW_FREE_BYTES = 1 << 30;

export interface FreeSpace {
  free: number;
  total: number;
}

/** Free space (for an unprivileged writer) and size of the filesystem holding `dir`; null if unknown. */
export async function freeSpace(dir: string): Promise<FreeSpace | null> {
  try {
    const st = await fs.promises.statfs(dir);
    return { free: st.bavail * st.bsize, total: st.blocks * st.bsize };
  } catch {
    return null;
  }
}

/**
 * The warning to give before collecting, or null when there is room: less than LOW_FREE_BYTES free,
 * or less than twice the container's writable layer (its content lands in fs/diff.tar and again,
 * compressed, in the sealed bundle beside the case folder).
 */
export function lowSpaceWarning(
  casesDir: string,
  space: FreeSpace | null,
  sizeRw?: number,
): string | null {
  if (!space) return null;
  const need = sizeRw && sizeRw > 0 ? 2 * sizeRw : 0;
  if (space.free >= LOW_FREE_BYTES && space.free >= need) return null;
  const layer = need
    ? `; the container's writable layer holds ${humanBytes(sizeRw as number)}, which collecting and sealing may need about twice of`
    : '';
  return (
    `low disk space: the cases folder ${casesDir} has ${humanBytes(space.free)} free of ${humanBytes(space.total)}${layer}. ` +
    'A full disk fails the step that writes (what was written is kept, the case can be sealed once space is freed); ' +
    'free space or pass --cases-dir on a larger disk before collecting much'
  );
}
