import { errorMessage } from '../errors.js';
import { connectEngine, type EngineRef } from './engines.js';
import type { ContainerFilter } from '../runtime/filters.js';
import { inventory, type InventoryRow } from './inventory.js';
import { matchOnEngine } from './targets.js';

/** An engine that could not be listed, and why (the engine's own words: sanitise before printing). */
export interface EngineFailure {
  engine: string;
  /** The address tried, as shown to the user (the name's endpoint when connecting failed first). */
  endpoint: string;
  message: string;
}

export interface EnginesInventory {
  /** Every listed container of every engine that answered, by engine (in the refs' order), then name. */
  rows: InventoryRow[];
  /** The engines that did not answer (or failed midway); the others are still listed. */
  failures: EngineFailure[];
}

/**
 * Lists the containers of several engines at once: each is connected and listed in parallel, and
 * one that is unreachable (or whose TLS files are missing) is a failure of its own, not of the list.
 */
export async function inventoryEngines(
  refs: EngineRef[],
  all: boolean,
  filter?: ContainerFilter,
): Promise<EnginesInventory> {
  const results = await Promise.all(
    refs.map(async (ref) => {
      try {
        const eng = await connectEngine(ref);
        try {
          const listed = filter ? await matchOnEngine(eng.runtime, filter, all) : undefined;
          return { ref, rows: await inventory(eng.runtime, all, listed) };
        } finally {
          eng.runtime.close();
        }
      } catch (err) {
        return { ref, error: errorMessage(err) };
      }
    }),
  );
  const rows: InventoryRow[] = [];
  const failures: EngineFailure[] = [];
  for (const r of results) {
    if ('rows' in r && r.rows) rows.push(...r.rows);
    else
      failures.push({ engine: r.ref.name, endpoint: r.ref.endpoint.host, message: r.error ?? '' });
  }
  return { rows, failures };
}
