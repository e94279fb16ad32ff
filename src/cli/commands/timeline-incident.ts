import { timelineFile } from '../../findings/compute.js';
import { openIncidentCases } from '../../evidence/incident.js';
import { buildTimeline } from '../../timeline/build.js';
import type { TimelineEvent } from '../../timeline/event.js';
import { flatten, mergeBatches } from '../../timeline/merge.js';
import { readTimelineJsonl } from '../../timeline/read.js';

/**
 * Every case's timeline of an incident, merged in time order, each event tagged with its
 * container, engine and case (`attrs.container`, `attrs.engine`, `attrs.caseId`) and its id made
 * unique across cases (`<case id>/<event id>`). Each case's timeline.jsonl is read when it has
 * one, else its timeline is built from the artifacts; memory stays O(cases × batch).
 */
export async function incidentTimeline(
  dir: string,
  o: { sources?: string[]; warn: (m: string) => void },
): Promise<{ events: AsyncIterable<TimelineEvent>; cases: number; widest: number }> {
  const { cases } = await openIncidentCases(dir, o.warn);
  const inputs: AsyncIterable<TimelineEvent[]>[] = [];
  for (const c of cases) {
    const written = await timelineFile(c.src);
    const events: AsyncIterable<TimelineEvent> = written
      ? readTimelineJsonl(c.src, written, o.warn)
      : (await buildTimeline(c.src, { sources: o.sources, onWarning: o.warn })).events;
    inputs.push(
      tagged(events, c.container, String(c.entry.engine?.name ?? ''), String(c.entry.caseId ?? '')),
    );
  }
  const widest = Math.min(40, Math.max(9, ...cases.map((c) => c.container.length)));
  return { events: flatten(mergeBatches(inputs)), cases: cases.length, widest };
}

async function* tagged(
  events: AsyncIterable<TimelineEvent>,
  container: string,
  engine: string,
  caseId: string,
  size = 1000,
): AsyncGenerator<TimelineEvent[]> {
  let batch: TimelineEvent[] = [];
  for await (const e of events) {
    batch.push({ ...e, id: `${caseId}/${e.id}`, attrs: { ...e.attrs, container, engine, caseId } });
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
