import type { TimelineEvent } from './event.js';
import { jsonObjects } from './lines.js';
import type { CaseSource } from '../evidence/case-source.js';

/** Streams a written timeline.jsonl back as events; a damaged line is a warning, reading goes on. */
export async function* readTimelineJsonl(src: CaseSource, rel: string, warn: (m: string) => void): AsyncGenerator<TimelineEvent> {
  for await (const { o, line: n } of jsonObjects(src.createReadStream(rel), rel, warn)) {
    const e = o as unknown as TimelineEvent;
    if (typeof e?.timestamp !== 'number' || typeof e.message !== 'string' || typeof e.source !== 'string') {
      warn(`${rel}:${n}: not a timeline event; skipped`);
      continue;
    }
    e.ref ??= { artifact: '' };
    e.attrs ??= {};
    yield e;
  }
}
