import { latestOf } from '../artifacts.js';
import { loadEngineEvents } from '../engine-events.js';
import { makeEvent } from '../event.js';
import { execSessions, sessionTime } from '../exec-sessions.js';
import { byTime, type Extractor } from '../extractor.js';

/** One event per `docker exec` session: its command, when it ran, how it ended. */
export const execExtractor: Extractor = {
  name: 'exec',
  description: 'exec sessions (exec_create/exec_start/exec_die joined by exec id: command, exit code)',
  artifacts: ['container/events.jsonl'],
  async extract(x) {
    const rel = latestOf(x.files, 'container/events.jsonl');
    if (!rel) {
      x.diag.note('exec: no container/events.jsonl; skipped');
      return [];
    }
    // loadEngineEvents warns about malformed lines; the engine extractor already reported them.
    const sessions = execSessions(await loadEngineEvents(x.src, rel, { warn: () => undefined }), await x.attribution());
    const events = sessions.map((s) => {
      const ended = s.exitCode !== undefined ? `exit code ${s.exitCode}` : s.endedAt ? 'ended' : 'no end recorded';
      const durationMs = s.endedAt && s.startedAt ? Math.round((s.endedAt.us - s.startedAt.us) / 1000) : undefined;
      return makeEvent({
        at: sessionTime(s),
        desc: 'Exec Session Started',
        message: `exec session: ${s.command || '(command not recorded)'} (${ended})${s.responder ? ` — by cirt step ${s.responder.step ?? s.responder.action}` : ''}`,
        source: 'exec',
        kind: 'exec:session',
        actor: s.responder ? 'responder' : 'engine',
        ref: { artifact: rel, line: s.lines[0], field: 'session' },
        attrs: { execId: s.execId, command: s.command, exitCode: s.exitCode, durationMs, lines: s.lines },
      });
    });
    return [byTime(events)];
  },
};
