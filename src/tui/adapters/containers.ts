import type { Readable } from 'node:stream';
import { inventory } from '../../app/inventory.js';
import { errorMessage } from '../../errors.js';
import type { ContainerRuntime } from '../../runtime/types.js';
import type { ContainerRow } from '../types.js';

/** Engine events arrive in bursts (one `docker exec` is several); one re-list per burst is enough. */
const DEBOUNCE_MS = 150;
/** The engine's status text ("Up 5 minutes") ages without events: refresh it now and then. */
const REFRESH_MS = 10_000;
const RECONNECT_MS = 2_000;

/** Lists every container with the facts the Containers screen shows; quarantine comes from the app's inventory. */
export async function listRows(runtime: ContainerRuntime): Promise<ContainerRow[]> {
  const raw = await runtime.list({ all: true });
  const ps = await inventory(runtime, true, raw);
  const byId = new Map(ps.map((p) => [p.id, p]));
  return raw.map((c) => {
    const p = byId.get(c.id);
    return {
      id: c.id,
      name: c.name,
      image: c.image,
      state: c.state,
      status: c.status,
      created: c.created,
      networks: [...c.networks]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((n) => ({ name: n.name, ip: n.ip })),
      ports: c.ports,
      command: c.command,
      ...(p?.quarantined ? { quarantinedBy: p.case ?? 'unknown case' } : {}),
      ...(p?.egress.length ? { egressBy: p.egress } : {}),
    };
  });
}

/**
 * Keeps the container list live: lists once, then re-lists after every engine event (the /events
 * stream), debounced, and every few seconds. Runs outside React; returns a stop function.
 */
export function watchContainers(
  runtime: ContainerRuntime,
  onRows: (rows: ContainerRow[]) => void,
  onError: (message: string) => void,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let stream: Readable | undefined;
  let busy = false;
  let again = false;

  const refresh = async (): Promise<void> => {
    if (stopped) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const rows = await listRows(runtime);
      if (!stopped) onRows(rows);
    } catch (err) {
      if (!stopped) onError(`Cannot list containers: ${errorMessage(err)}`);
    } finally {
      busy = false;
      if (again && !stopped) {
        again = false;
        void refresh();
      }
    }
  };
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), DEBOUNCE_MS);
  };
  const subscribe = async (): Promise<void> => {
    if (stopped) return;
    try {
      const s = await runtime.activity();
      if (stopped) {
        s.destroy();
        return;
      }
      stream = s;
      s.on('data', soon);
      const retry = (): void => {
        if (stopped) return;
        setTimeout(() => void subscribe(), RECONNECT_MS).unref();
      };
      s.on('error', retry);
      s.on('end', retry);
    } catch (err) {
      onError(`Live updates stopped (engine events): ${errorMessage(err)}`);
      setTimeout(() => void subscribe(), RECONNECT_MS).unref();
    }
  };

  void refresh();
  void subscribe();
  const periodic = setInterval(() => void refresh(), REFRESH_MS);
  periodic.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(periodic);
    stream?.destroy();
  };
}
