import fs from 'node:fs/promises';
import { ContainerRoot } from './proc-root.js';
import { procIdentity, signalProcess } from './proc-signal.js';
import {
  bootTime,
  clkTck,
  containerPids,
  hostProcUsable,
  hostSocketOwners,
  readProcess,
  type SocketOwnerMap,
} from './proc.js';

/**
 * This host's view of a target's processes: what a step may read from /proc when the runtime runs
 * here. A step gets one only then (`ctx.host`); remote targets have none, so nothing reads a
 * stranger's /proc by mistake.
 */
export interface HostView {
  /** Whether host pid `pid` really is the container's process here, and why not. */
  usable(pid: number, containerId: string): Promise<{ ok: true } | { ok: false; reason: string }>;
  bootTime(): Promise<number>;
  clkTck(): number;
  /** Host pids of every process sharing the pid namespace of `initPid`. */
  containerPids(initPid: number): Promise<number[]>;
  readProcess: typeof readProcess;
  socketOwners(pids: number[]): Promise<SocketOwnerMap>;
  /** The container's filesystem through /proc/<pid>/root, never following its symlinks. */
  openRoot(pid: number): ContainerRoot;
  /** A file on this host (a /proc file, the runtime's own log file). */
  open(file: string): Promise<fs.FileHandle>;
  readdir(dir: string): Promise<string[]>;
  /** Start time, pid namespace and state of host pid `pid` (null when gone): tells a reused pid apart. */
  identity: typeof procIdentity;
  /** Sends a signal to a host pid (false when it is gone). */
  signal: typeof signalProcess;
  /** A /proc link's raw bytes (`/proc/<pid>/exe`, `/proc/<pid>/fd/3`). */
  readlink(file: string): Promise<Buffer>;
  /** stat of what a /proc link opens (a deleted file too). */
  stat(file: string): Promise<import('node:fs').Stats>;
}

export const thisHost: HostView = {
  usable: hostProcUsable,
  bootTime,
  clkTck,
  containerPids,
  readProcess,
  socketOwners: hostSocketOwners,
  openRoot: (pid) => ContainerRoot.open(pid),
  open: (file) => fs.open(file, 'r'),
  readdir: (dir) => fs.readdir(dir),
  identity: procIdentity,
  signal: signalProcess,
  readlink: (file) => fs.readlink(file, { encoding: 'buffer' }),
  stat: (file) => fs.stat(file),
};
