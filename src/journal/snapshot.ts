import { pidNamespaceOf, pidsByNamespace } from '../host/pid-namespaces.js';
import { isGone } from '../host/proc.js';
import { parseStat, startTimeUtc } from '../host/proc-parse.js';
import { parseSocketLine, withOwners, type SocketEntry } from '../host/procnet.js';
import type { HostView } from '../host/view.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { RecordKind } from './record.js';

/** Socket tables read per container (unix sockets are many and local; left to collect:network). */
const NET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
/** New records one container may cause per snapshot: a fork bomb must not flood the journal. */
const MAX_NEW_PER_CONTAINER = 2000;
/** A process's command line as recorded (it is the process's own choice how long it is). */
const MAX_CMDLINE_CHARS = 4096;

type Append = (kind: RecordKind, fields: Record<string, unknown>) => void;

interface Seen {
  firstSeen: string;
  lastSeen: string;
  fields: Record<string, unknown>;
}

interface Tracked {
  name: string;
  initPid: number;
  procs: Map<string, Seen>;
  socks: Map<string, Seen>;
}

/**
 * Volatile snapshots: each tick reads every running container's processes and sockets from the
 * host's /proc and appends only what changed since the last tick (an `appeared` record the first
 * time something is seen, an `ended` record with first-seen / last-seen when it is gone), so a
 * process or a connection that lived between two alerts stays on record.
 */
export class Snapshotter {
  private readonly tracked = new Map<string, Tracked>();
  private readonly pidCache = new Map<string, number>();
  snapshots = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly host: HostView,
    private readonly append: Append,
    private readonly now: () => number = Date.now,
  ) {}

  /** The engine said the container started, died or restarted: its init pid must be looked up again. */
  invalidate(id: string): void {
    this.pidCache.delete(id);
  }

  async tick(): Promise<void> {
    const at = new Date(this.now()).toISOString();
    const running = await this.runtime.list({ all: false });
    const byNs = await pidsByNamespace();
    const ours = await pidNamespaceOf('self');
    const btime = await this.host.bootTime();
    const tck = this.host.clkTck();
    const live = new Set<string>();
    for (const c of running) {
      live.add(c.id);
      try {
        await this.container(c.id, c.name, byNs, ours, btime, tck, at);
      } catch (err) {
        this.pidCache.delete(c.id);
        // The container may have stopped between the listing and the read: that is not a problem.
        if (isGone(err)) continue;
        this.append('snapshot:problem', {
          container: c.id,
          name: c.name,
          message: `could not read /proc for ${c.name}: ${(err as Error).message}`,
        });
      }
    }
    for (const [id, t] of this.tracked) {
      if (live.has(id)) continue;
      this.endAll(id, t, at);
      this.tracked.delete(id);
      this.pidCache.delete(id);
    }
    this.snapshots++;
  }

  private endAll(id: string, t: Tracked, at: string, why = 'container no longer running'): void {
    for (const s of t.procs.values()) this.ended('process:ended', id, t, s, at, why);
    for (const s of t.socks.values()) this.ended('socket:ended', id, t, s, at, why);
  }

  private ended(kind: RecordKind, id: string, t: Tracked, s: Seen, at: string, why?: string) {
    this.append(kind, {
      container: id,
      name: t.name,
      ...s.fields,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      goneBy: at,
      ...(why ? { why } : {}),
    });
  }

  private async initPid(id: string): Promise<number> {
    const cached = this.pidCache.get(id);
    if (cached) return cached;
    const facts = await this.runtime.inspect({ id, name: id });
    this.pidCache.set(id, facts.state.pid);
    return facts.state.pid;
  }

  private async container(
    id: string,
    name: string,
    byNs: Map<string, number[]>,
    ours: string,
    btime: number,
    tck: number,
    at: string,
  ): Promise<void> {
    const initPid = await this.initPid(id);
    if (!initPid) return;
    let t = this.tracked.get(id);
    if (!t || t.initPid !== initPid) {
      // A restarted container is a new set of processes: the old ones ended.
      if (t) this.endAll(id, t, at, 'container restarted');
      t = { name, initPid, procs: new Map(), socks: new Map() };
      this.tracked.set(id, t);
    }
    const ns = await pidNamespaceOf(initPid);
    // `--pid host` shares ours: that namespace is the whole host, so only the init process is taken.
    const pids = ns === ours ? [initPid] : (byNs.get(ns) ?? [initPid]);
    let budget = MAX_NEW_PER_CONTAINER;
    const seenProcs = new Set<string>();
    for (const pid of pids) {
      let key: string;
      try {
        const stat = parseStat(await this.readText(`/proc/${pid}/stat`));
        key = `${pid}:${stat.startTicks}`;
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      seenProcs.add(key);
      const known = t.procs.get(key);
      if (known) {
        known.lastSeen = at;
        continue;
      }
      if (budget-- <= 0) continue;
      try {
        const { proc } = await this.host.readProcess(pid, btime, tck);
        const fields = {
          pid,
          nspid: proc.nspid,
          ppid: proc.ppid,
          uid: proc.uid,
          comm: proc.comm,
          cmdline: boundedArgv(proc.cmdline),
          exe: proc.exe,
          startTime: startTimeUtc(Number(key.split(':')[1]), btime, tck),
        };
        t.procs.set(key, { firstSeen: at, lastSeen: at, fields });
        this.append('process:appeared', { container: id, name, ...fields, firstSeen: at });
      } catch (err) {
        if (!isGone(err)) throw err;
        seenProcs.delete(key);
      }
    }
    for (const [key, s] of t.procs) {
      if (seenProcs.has(key)) continue;
      this.ended('process:ended', id, t, s, at);
      t.procs.delete(key);
    }
    await this.sockets(id, t, pids, at, budget);
    if (budget <= 0)
      this.append('snapshot:problem', {
        container: id,
        name,
        message: `more than ${MAX_NEW_PER_CONTAINER} new processes and sockets in one snapshot of ${name}; the rest were not recorded this time`,
      });
  }

  private async sockets(id: string, t: Tracked, pids: number[], at: string, budget: number) {
    const found: SocketEntry[] = [];
    for (const table of NET_TABLES) {
      let text: string;
      try {
        text = await this.readText(`/proc/${t.initPid}/net/${table}`);
      } catch (err) {
        if (isGone(err)) return;
        throw err;
      }
      for (const line of text.split('\n')) {
        const s = parseSocketLine(table, line);
        if (s) found.push(s);
      }
    }
    const keyOf = (s: SocketEntry) =>
      `${s.proto} ${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort} ${s.inode}`;
    const fresh = found.filter((s) => !t.socks.has(keyOf(s)));
    // Owners cost a walk of every fd: only when something new is there to attribute.
    const owners =
      fresh.some((s) => s.inode) && budget > 0 ? await this.host.socketOwners(pids) : new Map();
    const seen = new Set<string>();
    for (const s of found) {
      const key = keyOf(s);
      seen.add(key);
      const known = t.socks.get(key);
      if (known) {
        known.lastSeen = at;
        known.fields.state = s.state;
        continue;
      }
      if (budget-- <= 0) continue;
      const o = withOwners(s, owners);
      const fields = {
        proto: o.proto,
        local: `${o.localAddress}:${o.localPort}`,
        remote: `${o.remoteAddress}:${o.remotePort}`,
        state: o.state,
        inode: o.inode,
        pids: o.pids,
        processes: o.processes,
      };
      t.socks.set(key, { firstSeen: at, lastSeen: at, fields });
      this.append('socket:appeared', { container: id, name: t.name, ...fields, firstSeen: at });
    }
    for (const [key, s] of t.socks) {
      if (seen.has(key)) continue;
      this.ended('socket:ended', id, t, s, at);
      t.socks.delete(key);
    }
  }

  private async readText(file: string): Promise<string> {
    const fh = await this.host.open(file);
    try {
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  }
}

function boundedArgv(argv: string[]): string[] {
  const out: string[] = [];
  let left = MAX_CMDLINE_CHARS;
  for (const a of argv) {
    if (left <= 0) {
      out.push('…');
      break;
    }
    out.push(a.length > left ? `${a.slice(0, left)}…` : a);
    left -= a.length;
  }
  return out;
}
