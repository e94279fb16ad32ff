import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import {
  parseBtime,
  parseStat,
  parseStatus,
  socketInode,
  splitCmdline,
  startTimeUtc,
} from './proc-parse.js';
import { nameFields } from '../util/names.js';

/**
 * Reading a container's processes from the engine host's /proc. Works on a paused container
 * (the freezer does not stop /proc reads) and never enters the container.
 */

/** A process of the container as the host sees it (evidence-formats.md: proc/processes.json). */
export interface HostProcess {
  pid: number;
  nspid: number | null;
  ppid: number;
  uid: number | null;
  gid: number | null;
  uids: number[];
  gids: number[];
  comm: string;
  state: string;
  cmdline: string[];
  exe: string | null;
  exeB64?: string;
  cwd: string | null;
  cwdB64?: string;
  startTime: string;
  fds: { fd: number; target: string; targetB64?: string }[];
  socketInodes: number[];
}

/** The raw text behind one HostProcess (proc/raw.jsonl). */
export interface RawProcess {
  pid: number;
  stat: string;
  status: string;
  cmdlineB64: string;
  statB64?: string;
  statusB64?: string;
}

let ticks: number | undefined;

/** Clock ticks per second for /proc times: `getconf CLK_TCK`, once; 100 (Linux's USER_HZ) if that fails. */
export function clkTck(): number {
  if (ticks !== undefined) return ticks;
  try {
    const v = Number(
      execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim(),
    );
    ticks = Number.isInteger(v) && v > 0 ? v : 100;
  } catch {
    ticks = 100;
  }
  return ticks;
}

/** The host's boot time (Unix seconds). */
export async function bootTime(): Promise<number> {
  return parseBtime(await fs.readFile('/proc/stat', 'utf8'));
}

/** True for errors that mean the process (or fd) went away while we read it. */
export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/**
 * Whether host pid `pid` really is this container's process here: the engine may be "local"
 * (a unix socket) while cirt itself runs in another pid namespace, where /proc/<pid> is someone
 * else. The container's cgroup path always names its id.
 */
export async function hostProcUsable(
  pid: number,
  containerId: string,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!pid) return { ok: false, reason: 'the container has no process (not running)' };
  try {
    const cg = await fs.readFile(`/proc/${pid}/cgroup`, 'utf8');
    if (!cg.includes(containerId))
      return {
        ok: false,
        reason: `/proc/${pid} is not this container's process here (cirt runs in another pid namespace?)`,
      };
    await fs.readlink(`/proc/${pid}/ns/pid`);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `/proc/${pid} is not readable: ${(err as Error).message}` };
  }
}

async function pidNamespace(pid: number | 'self'): Promise<string> {
  return fs.readlink(`/proc/${pid}/ns/pid`);
}

/**
 * Host pids of every process in the container: those sharing the pid namespace of its init
 * process. A container run with `--pid host` shares ours, so there the cgroup decides.
 */
export async function containerPids(initPid: number): Promise<number[]> {
  const ns = await pidNamespace(initPid);
  const sharesOurs = ns === (await pidNamespace('self'));
  const cgroup = sharesOurs ? await fs.readFile(`/proc/${initPid}/cgroup`, 'utf8') : '';
  const pids: number[] = [];
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const match = sharesOurs
        ? (await fs.readFile(`/proc/${pid}/cgroup`, 'utf8')) === cgroup
        : (await pidNamespace(pid)) === ns;
      if (match) pids.push(pid);
    } catch {
      // Host processes come and go while we walk /proc; only the container's matter.
    }
  }
  if (!pids.includes(initPid)) pids.push(initPid);
  return pids.sort((a, b) => a - b);
}

/** A link target as text, plus its exact bytes when they are not valid UTF-8. */
async function readLinkBytes(file: string): Promise<{ text: string; b64?: string }> {
  return nameFields((await fs.readlink(file, { encoding: 'buffer' })) as Buffer);
}

async function optionalLink(file: string): Promise<{ text: string; b64?: string } | null> {
  try {
    return await readLinkBytes(file);
  } catch {
    // Kernel threads and exited processes have no exe/cwd.
    return null;
  }
}

/** Open fds of a process; fds closed while listing are skipped. */
export async function openFds(pid: number): Promise<HostProcess['fds']> {
  const fds: HostProcess['fds'] = [];
  for (const name of await fs.readdir(`/proc/${pid}/fd`)) {
    try {
      const t = await readLinkBytes(`/proc/${pid}/fd/${name}`);
      fds.push({ fd: Number(name), target: t.text, ...(t.b64 ? { targetB64: t.b64 } : {}) });
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
  return fds.sort((a, b) => a.fd - b.fd);
}

const textOrB64 = (buf: Buffer, key: 'stat' | 'status'): Record<string, string> => {
  const { text, b64 } = nameFields(buf);
  return b64 ? { [key]: text, [`${key}B64`]: b64 } : { [key]: text };
};

/** Reads one process. Throws an ENOENT/ESRCH error (see isGone) when it exited meanwhile. */
export async function readProcess(
  pid: number,
  btime: number,
  tck = clkTck(),
): Promise<{ proc: HostProcess; raw: RawProcess }> {
  const dir = `/proc/${pid}`;
  const [statBuf, statusBuf, cmdlineBuf] = await Promise.all([
    fs.readFile(`${dir}/stat`),
    fs.readFile(`${dir}/status`),
    fs.readFile(`${dir}/cmdline`),
  ]);
  const stat = parseStat(statBuf.toString('utf8'));
  const status = parseStatus(statusBuf.toString('utf8'));
  const [exe, cwd, fds] = await Promise.all([
    optionalLink(`${dir}/exe`),
    optionalLink(`${dir}/cwd`),
    openFds(pid),
  ]);
  // stat's (comm) field is /proc/<pid>/comm: no second read for it.
  const comm = stat.comm;
  const socketInodes = [
    ...new Set(fds.map((f) => socketInode(f.target)).filter((n): n is number => n !== undefined)),
  ];
  const proc: HostProcess = {
    pid,
    nspid: status.nspids.length ? status.nspids[status.nspids.length - 1] : null,
    ppid: stat.ppid,
    uid: status.uids[0] ?? null,
    gid: status.gids[0] ?? null,
    uids: status.uids,
    gids: status.gids,
    comm,
    state: stat.state,
    cmdline: splitCmdline(cmdlineBuf),
    exe: exe?.text ?? null,
    ...(exe?.b64 ? { exeB64: exe.b64 } : {}),
    cwd: cwd?.text ?? null,
    ...(cwd?.b64 ? { cwdB64: cwd.b64 } : {}),
    startTime: startTimeUtc(stat.startTicks, btime, tck),
    fds,
    socketInodes,
  };
  const raw = {
    pid,
    ...textOrB64(statBuf, 'stat'),
    ...textOrB64(statusBuf, 'status'),
    cmdlineB64: cmdlineBuf.toString('base64'),
  } as RawProcess;
  return { proc, raw };
}

/** Which processes hold each socket inode: inode → pids and process names (comm). */
export type SocketOwnerMap = Map<number, { pids: number[]; names: string[] }>;

/** Builds the socket-owner map from the container's processes' fds (host /proc). */
export async function hostSocketOwners(pids: number[]): Promise<SocketOwnerMap> {
  const owners: SocketOwnerMap = new Map();
  for (const pid of pids) {
    try {
      const comm = (await fs.readFile(`/proc/${pid}/comm`, 'utf8')).replace(/\n$/, '');
      for (const f of await openFds(pid)) addOwner(owners, socketInode(f.target), pid, comm);
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
  return owners;
}

/** Adds one (inode, pid, name) triple to an owner map. */
export function addOwner(
  owners: SocketOwnerMap,
  inode: number | undefined,
  pid: number,
  name: string,
): void {
  if (inode === undefined) return;
  const o = owners.get(inode) ?? { pids: [], names: [] };
  if (!o.pids.includes(pid)) o.pids.push(pid);
  if (!o.names.includes(name)) o.names.push(name);
  owners.set(inode, o);
}
