import type { TimelineEvent } from './event.js';
import { jsonObjects } from './lines.js';
import type { CaseSource } from '../evidence/case-source.js';
import { badTimeText, inRange, isoMicros } from './time.js';

/** Streams a written timeline.jsonl back as events; a damaged line is a warning, reading goes on. */
export async function* readTimelineJsonl(
  src: CaseSource,
  rel: string,
  warn: (m: string) => void,
): AsyncGenerator<TimelineEvent> {
  for await (const { o, line: n } of jsonObjects(src.createReadStream(rel), rel, warn)) {
    const e = o as unknown as TimelineEvent;
    if (
      typeof e?.timestamp !== 'number' ||
      typeof e.message !== 'string' ||
      typeof e.source !== 'string'
    ) {
      warn(`${rel}:${n}: not a timeline event; skipped`);
      continue;
    }
    if (!inRange(e.timestamp)) {
      warn(
        `${rel}:${n}: timestamp ${badTimeText(e.timestamp)} is out of range (after 9999-12-31 or not whole µs); event skipped`,
      );
      continue;
    }
    // Rebuilt from the timestamp: a forged datetime cannot disagree with it or break a formatter.
    e.datetime = isoMicros(e.timestamp);
    if (!e.ref || typeof e.ref !== 'object' || typeof e.ref.artifact !== 'string')
      e.ref = { artifact: '' };
    if (!e.attrs || typeof e.attrs !== 'object') e.attrs = {};
    for (const k of ['id', 'timestamp_desc', 'kind', 'actor'] as const)
      if (typeof e[k] !== 'string') (e as unknown as Record<string, unknown>)[k] = '';
    yield e;
  }
}
