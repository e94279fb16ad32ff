import type { Playbook, PlaybookProblem } from './types.js';

/** Steps that end the container's processes: what lives only in them is gone afterwards. */
const DESTROYS = new Set(['contain:kill', 'contain:stop']);
/** Evidence that lives only in running processes (their list, their sockets, their namespaces). */
const VOLATILE = new Set(['collect:processes', 'collect:network', 'collect:mounts']);

/**
 * Warnings (not errors: the playbook may mean it) for an order that destroys evidence before it is
 * collected: kill or stop before the processes, sockets or mounts are read.
 */
export function orderWarnings(pb: Playbook): PlaybookProblem[] {
  const out: PlaybookProblem[] = [];
  const first = pb.steps.findIndex((s) => DESTROYS.has(s.uses));
  if (first < 0) return out;
  const killer = pb.steps[first];
  for (const s of pb.steps.slice(first + 1)) {
    if (!VOLATILE.has(s.uses)) continue;
    out.push({
      file: pb.file,
      line: s.line,
      col: 1,
      step: `step "${s.id}" (${s.uses})`,
      message: `runs after step "${killer.id}" (${killer.uses}) at line ${killer.line}: the processes are gone by then, so it will find nothing to collect; move it before "${killer.id}"`,
    });
  }
  return out;
}
