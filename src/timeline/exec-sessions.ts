import type { Attribution } from './attribution.js';
import type { EngineEvent } from './engine-events.js';
import type { Instant } from './time.js';

/** One `docker exec`: the exec_create/exec_start/exec_die events of one exec id, joined. */
export interface ExecSession {
  execId: string;
  command: string;
  createdAt?: Instant;
  startedAt?: Instant;
  endedAt?: Instant;
  exitCode?: number;
  /** The engine event lines that make up the session, in time order (create first when present). */
  refs: { artifact: string; line: number }[];
  /** Set when the session was one of our own steps (custody records its exec id). */
  responder?: { step?: string; action: string };
}

/** Groups exec events by `execID` (events without an id are each their own session). */
export function execSessions(
  events: readonly EngineEvent[],
  attribution?: Attribution,
): ExecSession[] {
  const byId = new Map<string, ExecSession>();
  let anon = 0;
  for (const e of events) {
    if (!e.verb.startsWith('exec_')) continue;
    const id = e.attributes.execID ?? `unknown-${++anon}`;
    let s = byId.get(id);
    if (!s) byId.set(id, (s = { execId: id, command: '', refs: [] }));
    s.refs.push({ artifact: e.artifact, line: e.line });
    if (e.detail && !s.command) s.command = e.detail;
    if (e.verb === 'exec_create') s.createdAt = e.at;
    else if (e.verb === 'exec_start') s.startedAt = e.at;
    else if (e.verb === 'exec_die') {
      s.endedAt = e.at;
      const code = Number(e.attributes.exitCode);
      if (e.attributes.exitCode !== undefined && Number.isFinite(code)) s.exitCode = code;
    }
  }
  const out = [...byId.values()];
  for (const s of out) {
    const at = s.createdAt ?? s.startedAt ?? s.endedAt;
    const r = at && attribution?.responderStep('container', 'exec_create', at.us, s.execId);
    if (r) s.responder = r;
  }
  return out;
}

/** When the session began (create, else start, else end). */
export function sessionTime(s: ExecSession): Instant {
  return (s.createdAt ?? s.startedAt ?? s.endedAt)!;
}
