import { makeEvent } from '../event.js';
import { execSessions, sessionTime } from '../exec-sessions.js';
import { byTime, type Extractor } from '../extractor.js';

/** One event per `docker exec` session: its command, when it ran, how it ended. */
export const execExtractor: Extractor = {
  name: 'exec',
  description:
    'exec sessions (exec_create/exec_start/exec_die joined by exec id: command, exit code)',
  artifacts: ['container/events.jsonl'],
  async extract(x) {
    const all = await x.engineEvents();
    if (!all) {
      x.diag.note('exec: no container/events.jsonl; skipped');
      return [];
    }
    const sessions = execSessions(all, await x.attribution());
    const events = sessions.map((s) => {
      const ended =
        s.exitCode !== undefined
          ? `exit code ${s.exitCode}`
          : s.endedAt
            ? 'ended'
            : 'no end recorded';
      const durationMs =
        s.endedAt && s.startedAt ? Math.round((s.endedAt.us - s.startedAt.us) / 1000) : undefined;
      return makeEvent({
        at: sessionTime(s),
        desc: 'Exec Session Started',
        message: `exec session: ${s.command || '(command not recorded)'} (${ended})${s.responder ? ` — by cirt step ${s.responder.step ?? s.responder.action}` : ''}`,
        source: 'exec',
        kind: 'exec:session',
        // The command ran inside the container (its engine API calls stay `engine` events); cirt never
        // execs unless a step recorded the exec id, so an unclaimed session is not the responder's.
        actor: s.responder ? 'responder' : 'container',
        ref: { ...s.refs[0], field: 'session' },
        attrs: {
          execId: s.execId,
          command: s.command,
          exitCode: s.exitCode,
          durationMs,
          lines: s.refs.map((r) => r.line),
        },
      });
    });
    return [byTime(events)];
  },
};
