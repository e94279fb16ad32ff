import { Diagnostics, loadManifest } from './artifacts.js';
import { loadAttribution, type Attribution } from './attribution.js';
import type { TimelineEvent } from './event.js';
import type { ExtractContext } from './extractor.js';
import { extractors as defaultExtractors, type ExtractorRegistry } from './extractors/index.js';
import { flatten, mergeBatches } from './merge.js';
import type { CaseSource } from '../evidence/case-source.js';
import { loadAllEngineEvents, type EngineEvent } from './engine-events.js';

export interface BuildOptions {
  /** Only these extractors (by name); default all. */
  sources?: readonly string[];
  registry?: ExtractorRegistry;
  /** Called for each warning as it happens (a step's ctx.warn). */
  onWarning?: (message: string) => void;
  /** Bytes of a log line kept in its event; the rest is clipped with a marker (tests set it low). */
  maxLogLine?: number;
}

export interface BuiltTimeline {
  /** All events in time order, in batches; consume once (this or `events`, not both). */
  batches: AsyncGenerator<TimelineEvent[]>;
  /** The same events one by one. */
  events: AsyncGenerator<TimelineEvent>;
  diag: Diagnostics;
}

/**
 * Builds the timeline of a case as one time-ordered stream: every extractor yields time-ordered
 * streams (small sources sorted in memory, logs streamed from disk), merged with a heap. Memory stays
 * bounded by the small sources, whatever the size of the logs.
 */
export async function buildTimeline(src: CaseSource, o: BuildOptions = {}): Promise<BuiltTimeline> {
  const diag = new Diagnostics(o.onWarning);
  const files = await src.list();
  const manifest = await loadManifest(src, files, diag);
  let attribution: Promise<Attribution> | undefined;
  let engineEvents: Promise<EngineEvent[] | undefined> | undefined;
  const x: ExtractContext = {
    src,
    files,
    manifest,
    diag,
    attribution: () => (attribution ??= loadAttribution(src, files)),
    engineEvents: () => (engineEvents ??= loadAllEngineEvents(src, files, diag)),
    maxLogLine: o.maxLogLine,
  };
  const wanted = o.sources ? new Set(o.sources) : undefined;
  const streams = [];
  for (const ex of (o.registry ?? defaultExtractors).list()) {
    if (wanted && !wanted.has(ex.name)) continue;
    streams.push(...(await ex.extract(x)));
  }
  const batches = mergeBatches(streams);
  return { batches, events: flatten(batches), diag };
}
