import { buildTimeline } from '../timeline/build.js';
import type { TimelineEvent } from '../timeline/event.js';
import { readLines } from '../timeline/lines.js';
import type { CaseSource } from '../evidence/case-source.js';
import { inRange } from '../timeline/time.js';
import { timelineFile } from './compute.js';

export type EventGist = Pick<TimelineEvent, 'id' | 'timestamp' | 'source' | 'message'>;

// Every timeline.jsonl line starts with its id: the id is read without parsing the (maybe 1 MiB) line.
const ID = /^\{"id":("(?:[^"\\]|\\.)*")/;

/**
 * Finds the timeline events with these ids, so a finding can show what happened rather than ids:
 * from the case's timeline.jsonl when there is one, else from a timeline built on the fly.
 */
export async function lookupEvents(
  src: CaseSource,
  ids: ReadonlySet<string>,
): Promise<Map<string, EventGist>> {
  const found = new Map<string, EventGist>();
  if (!ids.size) return found;
  // A tampered line may hold any value: only a usable time and text make a gist (else "not in the timeline").
  const keep = (e: TimelineEvent): void => {
    if (ids.has(e.id) && inRange(e.timestamp))
      found.set(e.id, {
        id: e.id,
        timestamp: e.timestamp,
        source: String(e.source ?? '?'),
        message: String(e.message ?? ''),
      });
  };
  const rel = await timelineFile(src);
  if (!rel) {
    // An event id starts with its source (= extractor name): build only those, not every log line again.
    const sources = [...new Set([...ids].map((id) => id.slice(0, id.indexOf(':'))))];
    for await (const e of (await buildTimeline(src, { sources, onWarning: () => undefined }))
      .events)
      keep(e);
    return found;
  }
  for await (const line of readLines(src.createReadStream(rel))) {
    const m = ID.exec(line);
    if (!m) continue;
    try {
      if (ids.has(JSON.parse(m[1]) as string)) keep(JSON.parse(line) as TimelineEvent);
    } catch {
      // a damaged line: `cirt timeline` reports it
    }
    if (found.size === ids.size) break;
  }
  return found;
}
