import type { TimelineEvent } from './event.js';
import { readLines } from './lines.js';
import type { CaseSource } from './source.js';

/** Streams a written timeline.jsonl back as events; a damaged line is a warning, reading goes on. */
export async function* readTimelineJsonl(src: CaseSource, rel: string, warn: (m: string) => void): AsyncGenerator<TimelineEvent> {
  let n = 0;
  for await (const line of readLines(src.createReadStream(rel))) {
    n++;
    if (!line) continue;
    let e: TimelineEvent;
    try {
      e = JSON.parse(line) as TimelineEvent;
    } catch {
      warn(`${rel}:${n}: not valid JSON; skipped`);
      continue;
    }
    if (typeof e?.timestamp !== 'number' || typeof e.message !== 'string' || typeof e.source !== 'string') {
      warn(`${rel}:${n}: not a timeline event; skipped`);
      continue;
    }
    e.ref ??= { artifact: '' };
    e.attrs ??= {};
    yield e;
  }
}
