import fs from 'node:fs/promises';

/**
 * Every process of this host grouped by pid namespace, in one walk of /proc: the flight recorder
 * snapshots dozens of containers each interval, and walking /proc once per container would cost
 * (containers × host processes) readlinks. Processes that exit during the walk are skipped.
 */
export async function pidsByNamespace(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let ns: string;
    try {
      ns = await fs.readlink(`/proc/${name}/ns/pid`);
    } catch {
      continue;
    }
    const list = out.get(ns);
    if (list) list.push(Number(name));
    else out.set(ns, [Number(name)]);
  }
  return out;
}

/** The pid namespace of one process (`pid:[4026531836]`). */
export function pidNamespaceOf(pid: number | 'self'): Promise<string> {
  return fs.readlink(`/proc/${pid}/ns/pid`);
}
