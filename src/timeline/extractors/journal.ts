import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { jsonObjects } from '../lines.js';
import { parseRfc3339 } from '../time.js';

const REL = 'journal/excerpt.jsonl';
/** Every event of this source says where it came from: the recorder's snapshots, not a collection step. */
const ORIGIN = 'flight recorder snapshot (host /proc, every interval)';

const str = (v: unknown): string => (typeof v === 'string' ? v : '?');
const argvText = (v: unknown, comm: unknown): string =>
  Array.isArray(v) && v.length ? v.map(String).join(' ') : `[${str(comm)}]`;

/**
 * What the flight recorder saw before the run (journal/excerpt.jsonl): processes and sockets that
 * appeared and ended between snapshots, and the gaps in its recording. Engine events of the journal
 * are in container/events.jsonl and come through the engine extractor.
 */
export const journalExtractor: Extractor = {
  name: 'journal',
  description:
    "the flight recorder's snapshots: processes and sockets appearing and ending, and recording gaps (journal/excerpt.jsonl)",
  artifacts: [REL],
  async extract(x) {
    if (!x.files.includes(REL)) {
      x.diag.note(
        'journal: no journal/excerpt.jsonl (the run had no flight recorder journal); skipped',
      );
      return [];
    }
    const out: TimelineEvent[] = [];
    for await (const { o: r, line } of jsonObjects(x.src.createReadStream(REL), REL, (m) =>
      x.diag.warn(m, REL),
    )) {
      const ref = { artifact: REL, line };
      const push = (
        atText: unknown,
        field: string,
        p: { desc: string; message: string; kind: string; attrs: Record<string, unknown> },
      ) => {
        const at = typeof atText === 'string' ? parseRfc3339(atText) : undefined;
        if (!at) return x.diag.warn(`${REL}:${line}: no usable ${field}; skipped`, REL);
        out.push(
          makeEvent({
            at,
            ...p,
            source: 'journal',
            actor: p.kind === 'journal:gap' ? 'responder' : 'container',
            ref: { ...ref, field },
            attrs: { ...p.attrs, origin: p.kind === 'journal:gap' ? 'flight recorder' : ORIGIN },
          }),
        );
      };
      const who = `process ${String(r.nspid ?? r.pid)}`;
      switch (r.kind) {
        case 'process:appeared':
          push(r.startTime, 'startTime', {
            desc: 'Process Started',
            message: `${who} started: ${argvText(r.cmdline, r.comm)} (seen by the flight recorder from ${str(r.firstSeen)})`,
            kind: 'process:start',
            attrs: {
              pid: r.pid,
              nspid: r.nspid,
              ppid: r.ppid,
              uid: r.uid,
              comm: r.comm,
              cmdline: r.cmdline,
              exe: r.exe,
              firstSeen: r.firstSeen,
            },
          });
          break;
        case 'process:ended':
          push(r.goneBy, 'goneBy', {
            desc: 'Process Gone',
            message: `${who} ended: ${argvText(r.cmdline, r.comm)} (last seen ${str(r.lastSeen)}, gone by ${str(r.goneBy)})`,
            kind: 'process:end',
            attrs: {
              pid: r.pid,
              nspid: r.nspid,
              comm: r.comm,
              cmdline: r.cmdline,
              startTime: r.startTime,
              firstSeen: r.firstSeen,
              lastSeen: r.lastSeen,
              precision: 'between lastSeen and goneBy (the snapshot interval)',
            },
          });
          break;
        case 'socket:appeared':
        case 'socket:ended': {
          const opened = r.kind === 'socket:appeared';
          const procs =
            Array.isArray(r.processes) && r.processes.length
              ? ` by ${r.processes.map(String).join(',')}`
              : '';
          push(opened ? r.firstSeen : r.goneBy, opened ? 'firstSeen' : 'goneBy', {
            desc: opened ? 'Socket First Seen' : 'Socket Gone',
            message: `${str(r.proto)} ${str(r.local)} → ${str(r.remote)} ${str(r.state)}${procs} ${opened ? 'seen' : `gone (last seen ${str(r.lastSeen)})`}`,
            kind: opened ? 'socket:seen' : 'socket:gone',
            attrs: {
              proto: r.proto,
              local: r.local,
              remote: r.remote,
              state: r.state,
              pids: r.pids,
              processes: r.processes,
              firstSeen: r.firstSeen,
              lastSeen: r.lastSeen,
            },
          });
          break;
        }
        case 'gap':
          push(r.from, 'from', {
            desc: 'Recording Gap',
            message: `the flight recorder did not record from ${str(r.from)} to ${str(r.to)}: ${str(r.reason)}`,
            kind: 'journal:gap',
            attrs: { from: r.from, to: r.to, reason: r.reason },
          });
          break;
        default:
          break;
      }
    }
    return [byTime(out)];
  },
};
