import path from 'node:path';
import { decodeLine, type JournalRecord, type RecordKind } from './record.js';
import { listSegments, readSegment } from './segments.js';

/** Records about the whole journal, not one container: a query for a container includes them. */
export const CONTEXT_KINDS: ReadonlySet<RecordKind> = new Set<RecordKind>([
  'journal:start',
  'journal:stop',
  'engine:lost',
  'gap',
  'retention:dropped',
]);

export interface JournalLine {
  segment: string;
  line: number;
  /** The record exactly as stored (its own hash still checks). */
  text: string;
  rec: JournalRecord;
}

/** Every record of the journal in order; lines that do not decode are counted in `bad`, not thrown. */
export function* scanJournal(dir: string, bad?: { count: number }): Generator<JournalLine> {
  for (const s of listSegments(dir)) {
    for (const { line, text } of readSegment(path.join(dir, s.name))) {
      const rec = decodeLine(text);
      if (typeof rec === 'string') {
        if (bad) bad.count++;
        continue;
      }
      yield { segment: s.name, line, text, rec };
    }
  }
}

/** When what a record is about happened (ms): the engine's time for events, else when it was written. */
export function recordTimeMs(rec: JournalRecord): number {
  if (rec.kind === 'engine:event' && typeof rec.ns === 'string' && /^\d+$/.test(rec.ns))
    return Number(BigInt(rec.ns) / 1_000_000n);
  return Date.parse(rec.time);
}

interface EventHead {
  Type?: string;
  Actor?: { ID?: string; Attributes?: { name?: string } };
}

/**
 * The container ids a `--container` value names in the journal: an exact id, an id prefix, or a
 * name (a name may have been several containers over time: all of them).
 */
export function containerIds(dir: string, ref: string): Set<string> {
  const ids = new Set<string>();
  const isHex = /^[0-9a-f]{1,64}$/.test(ref);
  for (const { rec } of scanJournal(dir)) {
    const id = rec.container;
    if (typeof id !== 'string') continue;
    if (isHex && id.startsWith(ref)) ids.add(id);
    else if (rec.name === ref) ids.add(id);
    else if (rec.kind === 'engine:event' && typeof rec.raw === 'string') {
      try {
        const e = JSON.parse(rec.raw) as EventHead;
        if (e.Type === 'container' && e.Actor?.Attributes?.name === ref) ids.add(id);
      } catch {
        // Not JSON: cannot name anything.
      }
    }
  }
  return ids;
}

export interface JournalQuery {
  /** Only records about these containers (and the journal-wide context records). */
  ids?: Set<string>;
  sinceMs?: number;
  untilMs?: number;
}

/** The records a query selects, in journal order. */
export function* queryJournal(dir: string, q: JournalQuery): Generator<JournalLine> {
  for (const l of scanJournal(dir)) {
    const { rec } = l;
    if (q.ids && !CONTEXT_KINDS.has(rec.kind)) {
      if (typeof rec.container !== 'string' || !q.ids.has(rec.container)) continue;
    }
    const t = recordTimeMs(rec);
    if (rec.kind === 'gap') {
      // A gap is selected when it overlaps the window at all.
      const from = Date.parse(String(rec.from));
      const to = Date.parse(String(rec.to));
      if (q.sinceMs !== undefined && to < q.sinceMs) continue;
      if (q.untilMs !== undefined && from > q.untilMs) continue;
    } else {
      if (q.sinceMs !== undefined && t < q.sinceMs) continue;
      if (q.untilMs !== undefined && t > q.untilMs) continue;
    }
    yield l;
  }
}
