import { z } from 'zod';
import type { ProcessInfo } from '../evidence.js';
import { globToRegExp } from '../glob.js';
import { defineMatcher } from '../matcher.js';

const base = (p: string | null | undefined): string => (p ? p.slice(p.lastIndexOf('/') + 1) : '');

/** The container's init: the process that is pid 1 in its namespace. */
function initOf(list: readonly ProcessInfo[]): ProcessInfo | undefined {
  return list.find((p) => p.nspid === 1);
}

/** True when following parents from `p` reaches `init` (a process the entrypoint started). */
function descendsFrom(p: ProcessInfo, init: ProcessInfo, byPid: Map<number, ProcessInfo>): boolean {
  const seen = new Set<number>();
  for (let cur: ProcessInfo | undefined = p; cur && !seen.has(cur.pid); cur = byPid.get(cur.ppid)) {
    if (cur.pid === init.pid) return true;
    seen.add(cur.pid);
  }
  return false;
}

/**
 * Running processes by name, with context: `entrypointNotIn` fires only when the container's entrypoint
 * is not one of those programs (a shell under a shell entrypoint is normal); `outsideEntrypointTree`
 * keeps only processes whose ancestry does not lead to the container's init — started by `docker exec`
 * or an escape, not by the application.
 */
export const processMatcher = defineMatcher({
  kind: 'process',
  description:
    'running processes by name (comm, exe or argv[0] basename globs), relative to the entrypoint',
  params: z
    .strictObject({
      names: z.array(z.string().min(1)).min(1).optional(),
      entrypointNotIn: z.array(z.string().min(1)).min(1).optional(),
      outsideEntrypointTree: z.boolean().default(false),
    })
    .refine(
      (p) => p.names || p.outsideEntrypointTree,
      'give names, outsideEntrypointTree, or both',
    ),
  match(p, ev) {
    const procs = ev.processes;
    if (!procs) return [];
    const entry = base(typeof ev.inspect?.doc.Path === 'string' ? ev.inspect.doc.Path : undefined);
    const init = initOf(procs.list);
    if (p.entrypointNotIn) {
      // Unknown entrypoint: cannot say it is not a shell, so stay quiet rather than guess. An
      // entrypoint script that is still pid 1 (`/entrypoint.sh` run by sh) counts as a shell too.
      if (
        !entry ||
        p.entrypointNotIn.includes(entry) ||
        (init && p.entrypointNotIn.includes(init.comm))
      )
        return [];
    }
    const names = p.names?.map(globToRegExp);
    if (p.outsideEntrypointTree && !init) {
      ev.diag.note(
        'findings: no process with namespace pid 1 in proc/processes.json; the entrypoint tree is unknown',
      );
      return [];
    }
    const byPid = new Map(procs.list.map((x) => [x.pid, x]));
    return procs.list
      .filter((x) => x !== init)
      .filter(
        (x) =>
          !names ||
          [x.comm, base(x.exe), base(x.cmdline[0])].some((n) => n && names.some((g) => g.test(n))),
      )
      .filter((x) => !p.outsideEntrypointTree || !descendsFrom(x, init!, byPid))
      .map((x) => ({
        key: String(x.pid),
        summary: `${x.comm} (pid ${x.nspid ?? x.pid}, parent ${x.ppid})${p.entrypointNotIn ? ` under entrypoint ${entry}` : ''}${p.outsideEntrypointTree ? ', not started by the entrypoint' : ''}: ${x.cmdline.join(' ') || `[${x.comm}]`}`,
        evidence: [{ artifact: procs.artifact, ref: { entry: x.entry } }],
      }));
  },
});
