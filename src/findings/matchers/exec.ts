import { z } from 'zod';
import type { ExecSession } from '../../timeline/exec-sessions.js';
import { defineMatcher } from '../matcher.js';

const at = (s: ExecSession): number | undefined => (s.createdAt ?? s.startedAt)?.us;

/**
 * Sessions in bursts: each starts within `gapUs` of the one before. Sessions without a time are
 * each their own burst (nothing says they belong together).
 */
export function bursts(sessions: readonly ExecSession[], gapUs: number): ExecSession[][] {
  const timed = sessions.filter((s) => at(s) !== undefined).sort((a, b) => at(a)! - at(b)!);
  const out: ExecSession[][] = [];
  for (const s of timed) {
    const last = out.at(-1);
    if (gapUs > 0 && last && at(s)! - at(last.at(-1)!)! <= gapUs) last.push(s);
    else out.push([s]);
  }
  for (const s of sessions) if (at(s) === undefined) out.push([s]);
  return out;
}

const one = (s: ExecSession): string =>
  `${s.execId.slice(0, 12)}: ${s.command || '(command not recorded)'}${s.exitCode !== undefined ? ` (exit code ${s.exitCode})` : ''}`;

/**
 * `docker exec` sessions into the container, except the responder's own (custody records them).
 * Sessions close together in time (`burstSeconds`, 0 = never) are one finding listing them all:
 * fourteen execs of one intrusion are one thing to look at, not fourteen.
 */
export const execMatcher = defineMatcher({
  kind: 'exec',
  description: "exec sessions (engine events), excluding cirt's own; a burst is one finding",
  params: z.strictObject({
    includeResponder: z.boolean().default(false),
    burstSeconds: z.number().nonnegative().default(300),
  }),
  match(p, ev) {
    if (!ev.execs) return [];
    const sessions = ev.execs.sessions.filter((s) => p.includeResponder || !s.responder);
    return bursts(sessions, p.burstSeconds * 1_000_000).map((group) => ({
      key: group[0].execId,
      summary:
        group.length === 1
          ? `exec session ${one(group[0])}`
          : `${group.length} exec sessions within ${Math.round(((at(group.at(-1)!) ?? 0) - (at(group[0]) ?? 0)) / 1e6)} s: ${group.map(one).join('; ')}`,
      evidence: group.flatMap((s) =>
        s.refs.map((r) => ({ artifact: r.artifact, ref: { line: r.line } })),
      ),
    }));
  },
});
