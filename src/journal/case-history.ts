import { eventNanos, GENESIS } from './record.js';
import { queryJournal, scanJournal } from './query.js';

/** What the journal can say about one container's history, for the case's completeness statement. */
export interface JournalCoverage {
  /** The time of the oldest record the journal still holds (its start, or where retention left it). */
  start?: string;
  /** Retention dropped older segments (the journal once reached further back). */
  dropped: boolean;
  /** Records about the container (events and snapshots) plus the journal-wide context records. */
  records: number;
  events: number;
  snapshots: number;
  /** Gaps in the recording (stream lost, recorder not running), every one the journal holds. */
  gaps: { from: string; to: string; reason: string }[];
}

/** Identifies an engine event across reads: its exact time, what happened and to which object. */
export function eventKey(raw: string): string {
  const ns = eventNanos(raw)?.toString() ?? '?';
  const action = /"Action":"((?:[^"\\]|\\.)*)"/.exec(raw)?.[1] ?? '?';
  const id = /"Actor":\{"ID":"([^"]*)"/.exec(raw)?.[1] ?? '?';
  return `${ns}|${action}|${id}`;
}

/**
 * First pass over the journal for a case: hands every record about container `id` (and the
 * journal-wide context records) to `out` exactly as stored, and returns the coverage and the keys
 * of the engine events it holds (to merge the engine's buffer without duplicates).
 */
export async function copyExcerpt(
  dir: string,
  id: string,
  out: (line: string) => Promise<void>,
): Promise<{ coverage: JournalCoverage; keys: Set<string> }> {
  const coverage: JournalCoverage = {
    dropped: false,
    records: 0,
    events: 0,
    snapshots: 0,
    gaps: [],
  };
  for (const l of scanJournal(dir)) {
    coverage.start = l.rec.time;
    // The oldest record left links to an older one: retention dropped the segments before it.
    coverage.dropped = l.rec.prevHash !== GENESIS;
    break;
  }
  const keys = new Set<string>();
  for (const { text, rec } of queryJournal(dir, { ids: new Set([id]) })) {
    await out(`${text}\n`);
    coverage.records++;
    if (rec.kind === 'engine:event' && typeof rec.raw === 'string') {
      coverage.events++;
      keys.add(eventKey(rec.raw));
    } else if (rec.kind.startsWith('process:') || rec.kind.startsWith('socket:'))
      coverage.snapshots++;
    else if (rec.kind === 'gap')
      coverage.gaps.push({
        from: String(rec.from),
        to: String(rec.to),
        reason: String(rec.reason ?? ''),
      });
  }
  return { coverage, keys };
}

/** The container's engine events from the journal, raw, in the order recorded (the engine's order). */
export function* journalEvents(dir: string, id: string): Generator<string> {
  for (const { rec } of queryJournal(dir, { ids: new Set([id]) }))
    if (rec.kind === 'engine:event' && typeof rec.raw === 'string') yield rec.raw;
}

/**
 * Merges the engine's own buffer (`engine`, lines) into the journal's events by time, dropping
 * those the journal already holds: what the engine kept from before the journal started or from a
 * gap fills in, and nothing appears twice.
 */
export function* mergeHistory(
  journal: Iterable<string>,
  engine: string[],
  keys: Set<string>,
): Generator<string> {
  const extra = engine
    .filter((l) => !keys.has(eventKey(l)))
    .map((l) => ({ l, ns: eventNanos(l) ?? 0n }))
    .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  let i = 0;
  for (const raw of journal) {
    const ns = eventNanos(raw) ?? 0n;
    while (i < extra.length && extra[i].ns <= ns) yield extra[i++].l;
    yield raw;
  }
  while (i < extra.length) yield extra[i++].l;
}
