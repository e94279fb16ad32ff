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
  const engine = await caseEngine(src, files);
  const merged = mergeBatches(streams);
  const batches = engine ? stampEngine(merged, engine) : merged;
  return { batches, events: flatten(batches), diag };
}

/** The engine's name from case.json, when the case records one (cases before engines had names do not). */
async function caseEngine(src: CaseSource, files: readonly string[]): Promise<string | undefined> {
  if (!files.includes('case.json')) return undefined;
  try {
    const name = (JSON.parse(await src.readText('case.json')) as { engine?: { name?: unknown } })
      ?.engine?.name;
    return typeof name === 'string' && name ? name : undefined;
  } catch {
    // A damaged case.json is verify's finding; the timeline is still built, without the name.
    return undefined;
  }
}

/** Every row names the engine: merged timelines of several cases stay attributable. */
async function* stampEngine(
  batches: AsyncGenerator<TimelineEvent[]>,
  engine: string,
): AsyncGenerator<TimelineEvent[]> {
  for await (const batch of batches) {
    for (const e of batch) e.engine = engine;
    yield batch;
  }
}
