import type { Writable } from 'node:stream';
import type { TimelineEvent } from './event.js';
import { BodyfileBuilder } from './exporters/bodyfile.js';
import { csvHeader, csvRow } from './exporters/csv.js';
import { TextSink } from './exporters/sink.js';

export interface TimelineOutputs {
  jsonl?: Writable;
  csv?: Writable;
  bodyfile?: Writable;
}

export interface WriteStats {
  events: number;
  files: number;
  bySource: Record<string, number>;
  first?: string;
  last?: string;
}

/**
 * Writes one pass of events to every requested format at once (the events are never held: JSONL and
 * CSV rows go out as they come; the bodyfile gathers one row per changed path). Streams are not ended.
 */
export async function writeTimeline(
  batches: AsyncIterable<readonly TimelineEvent[]>,
  out: TimelineOutputs,
  onProgress?: (n: number) => void,
): Promise<WriteStats> {
  const jsonl = out.jsonl && new TextSink(out.jsonl);
  const csv = out.csv && new TextSink(out.csv);
  const body = out.bodyfile ? new BodyfileBuilder() : undefined;
  const stats: WriteStats = { events: 0, files: 0, bySource: {} };
  await csv?.write(csvHeader());
  let reported = 0;
  for await (const batch of batches) {
    for (const e of batch) {
      stats.bySource[e.source] = (stats.bySource[e.source] ?? 0) + 1;
      jsonl?.add(`${JSON.stringify(e)}\n`);
      csv?.add(csvRow(e));
      body?.add(e);
    }
    if (!batch.length) continue;
    stats.events += batch.length;
    stats.first ??= batch[0].datetime;
    stats.last = batch[batch.length - 1].datetime;
    await jsonl?.drain();
    await csv?.drain();
    if (onProgress && stats.events - reported >= 50_000) onProgress((reported = stats.events));
  }
  await jsonl?.flush();
  await csv?.flush();
  if (out.bodyfile && body) {
    const sink = new TextSink(out.bodyfile);
    for (const line of body.lines()) await sink.write(line);
    await sink.flush();
    stats.files = body.size;
  }
  return stats;
}
