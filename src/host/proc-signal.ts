import fs from 'node:fs/promises';
import { isGone } from './proc.js';
import { parseStat, parseStatus } from './proc-parse.js';

/**
 * What tells one process from another that later gets the same pid: its start time (field 22 of
 * /proc/<pid>/stat, clock ticks after boot) and its pid namespace. Read again just before a signal,
 * so a pid the kernel handed to someone else in between is never signalled.
 */
export interface ProcIdentity {
  pid: number;
  startTicks: number;
  /** `pid:[4026532…]`: the pid namespace the process lives in. */
  pidNs: string;
  /** The pid inside the innermost namespace (the container's), from NSpid. */
  nspid: number | null;
  /** `R`, `S`, `D`, `Z`, … as /proc/<pid>/stat says. */
  state: string;
  comm: string;
}

/** The identity of host pid `pid`, or null when no such process exists (any more). */
export async function procIdentity(pid: number): Promise<ProcIdentity | null> {
  try {
    const [stat, status, pidNs] = await Promise.all([
      fs.readFile(`/proc/${pid}/stat`, 'utf8'),
      fs.readFile(`/proc/${pid}/status`, 'utf8'),
      fs.readlink(`/proc/${pid}/ns/pid`),
    ]);
    const s = parseStat(stat);
    const nspids = parseStatus(status).nspids;
    return {
      pid,
      startTicks: s.startTicks,
      pidNs,
      nspid: nspids.length ? nspids[nspids.length - 1] : null,
      state: s.state,
      comm: s.comm,
    };
  } catch (err) {
    // A zombie keeps stat and status but its ns links are gone (ENOENT): read what stays.
    if (isGone(err)) return zombieIdentity(pid);
    throw err;
  }
}

async function zombieIdentity(pid: number): Promise<ProcIdentity | null> {
  try {
    const s = parseStat(await fs.readFile(`/proc/${pid}/stat`, 'utf8'));
    return { pid, startTicks: s.startTicks, pidNs: '', nspid: null, state: s.state, comm: s.comm };
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** Whether `now` is the same process as `before` (same pid, same start time). */
export function sameProcess(before: ProcIdentity, now: ProcIdentity | null): boolean {
  return now !== null && now.pid === before.pid && now.startTicks === before.startTicks;
}

/** Sends `signal` to host pid `pid` from this (the engine's) host; false when it is gone (ESRCH). */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
