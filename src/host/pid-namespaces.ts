import fs from 'node:fs';
import { socketInode } from './proc-parse.js';

/**
 * Cheap synchronous /proc reads for the flight recorder's snapshots, which look at every running
 * container every interval. Each is a few microseconds on procfs; through fs/promises the same
 * read costs four thread-pool round trips (open, fstat, read, close), which at 50 containers made
 * the snapshots cost several percent of a core. Processes exiting mid-read throw ENOENT/ESRCH.
 */

/** Every process of this host grouped by pid namespace, in one walk of /proc. */
export function pidsByNamespace(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let ns: string;
    try {
      ns = fs.readlinkSync(`/proc/${name}/ns/pid`);
    } catch {
      // Exited during the walk, or a kernel thread we may not read.
      continue;
    }
    const list = out.get(ns);
    if (list) list.push(Number(name));
    else out.set(ns, [Number(name)]);
  }
  return out;
}

/** The pid namespace of one process (`pid:[4026531836]`). */
export function pidNamespaceOf(pid: number | 'self'): string {
  return fs.readlinkSync(`/proc/${pid}/ns/pid`);
}

/** A small /proc file as text. */
export function procText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** Socket inode → the pids and names (comm) holding it, from the processes' fds. */
export function socketHolders(pids: number[]): Map<number, { pids: number[]; names: string[] }> {
  const owners = new Map<number, { pids: number[]; names: string[] }>();
  for (const pid of pids) {
    let fds: string[];
    let comm: string;
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
      comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
    } catch {
      continue;
    }
    for (const fd of fds) {
      let inode: number | undefined;
      try {
        inode = socketInode(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        continue;
      }
      if (inode === undefined) continue;
      const o = owners.get(inode) ?? { pids: [], names: [] };
      if (!o.pids.includes(pid)) o.pids.push(pid);
      if (!o.names.includes(comm)) o.names.push(comm);
      owners.set(inode, o);
    }
  }
  return owners;
}
