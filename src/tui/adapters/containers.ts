import type Docker from 'dockerode';
import { listContainers as psList } from '../../cli/commands/ps.js';
import { errorMessage } from '../../errors.js';
import type { ContainerRow } from '../types.js';

/** Engine events arrive in bursts (one `docker exec` is several); one re-list per burst is enough. */
const DEBOUNCE_MS = 150;
/** The engine's status text ("Up 5 minutes") ages without events: refresh it now and then. */
const REFRESH_MS = 10_000;
const RECONNECT_MS = 2_000;

/** Lists every container with the facts the Containers screen shows; quarantine comes from `cirt ps`. */
export async function listRows(docker: Docker): Promise<ContainerRow[]> {
  const raw = await docker.listContainers({ all: true });
  const ps = await psList(docker, true, raw);
  const byId = new Map(ps.map((p) => [p.id, p]));
  return raw.map((c) => {
    const nets = c.NetworkSettings?.Networks ?? {};
    const p = byId.get(c.Id);
    return {
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      state: c.State,
      status: c.Status,
      created: c.Created,
      networks: Object.keys(nets)
        .sort()
        .map((name) => ({ name, ip: nets[name]?.IPAddress ?? '' })),
      ports: (c.Ports ?? []).map((pt) => (pt.PublicPort ? `${pt.IP ?? ''}:${pt.PublicPort}->${pt.PrivatePort}/${pt.Type}` : `${pt.PrivatePort}/${pt.Type}`)),
      command: c.Command,
      ...(p?.quarantined ? { quarantinedBy: p.case ?? 'unknown case' } : {}),
    };
  });
}

/**
 * Keeps the container list live: lists once, then re-lists after every engine event (the /events
 * stream), debounced, and every few seconds. Runs outside React; returns a stop function.
 */
export function watchContainers(docker: Docker, onRows: (rows: ContainerRow[]) => void, onError: (message: string) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let stream: NodeJS.ReadableStream | undefined;
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
      const rows = await listRows(docker);
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
      const s = (await docker.getEvents({ filters: { type: ['container', 'network'] } })) as NodeJS.ReadableStream;
      if (stopped) {
        (s as unknown as { destroy?: () => void }).destroy?.();
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
    (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  };
}
