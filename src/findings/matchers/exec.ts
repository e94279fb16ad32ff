import { z } from 'zod';
import { defineMatcher } from '../matcher.js';

/** `docker exec` sessions into the container, except the responder's own (custody records them). */
export const execMatcher = defineMatcher({
  kind: 'exec',
  description: "exec sessions (engine events), excluding cirt's own",
  params: z.strictObject({ includeResponder: z.boolean().default(false) }),
  match(p, ev) {
    if (!ev.execs) return [];
    return ev.execs.sessions
      .filter((s) => p.includeResponder || !s.responder)
      .map((s) => ({
        key: s.execId,
        summary: `exec session ${s.execId.slice(0, 12)}: ${s.command || '(command not recorded)'}${s.exitCode !== undefined ? ` (exit code ${s.exitCode})` : ''}`,
        evidence: s.refs.map((r) => ({ artifact: r.artifact, ref: { line: r.line } })),
      }));
  },
});
