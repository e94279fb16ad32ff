import type { ManifestEntry } from '../evidence/types.js';
import type { Diagnostics } from './artifacts.js';
import type { Attribution } from './attribution.js';
import type { TimelineEvent } from './event.js';
import type { CaseSource } from '../evidence/case-source.js';
import type { EngineEvent } from './engine-events.js';

/**
 * A time-ordered run of events: a sorted array for small in-memory sources, or an async iterable of
 * time-ordered batches for streamed logs (batches keep a million events from costing a million awaits).
 */
export type EventStream = readonly TimelineEvent[] | AsyncIterable<TimelineEvent[]>;

/** What every extractor gets: the case, its file list, manifest times, diagnostics, attribution. */
export interface ExtractContext {
  src: CaseSource;
  /** Every file of the case (case-relative). */
  files: readonly string[];
  manifest: ReadonlyMap<string, ManifestEntry>;
  diag: Diagnostics;
  /** Custody windows of our own steps (loaded once, shared). */
  attribution(): Promise<Attribution>;
  /** Every read of container/events.jsonl, merged and time-ordered (loaded once, shared); undefined when none. */
  engineEvents(): Promise<EngineEvent[] | undefined>;
  /** Bytes of a log line shown before it is clipped (default MAX_LOG_LINE of extractors/logs.ts). */
  maxLogLine?: number;
}

/**
 * One source of events. Like a plaso parser: a NAME, what it reads, and a function that turns the
 * evidence into events. Each returned stream must be in time order (sort small sources in memory);
 * the builder k-way merges them.
 */
export interface Extractor {
  /** The `source` of its events and the `--source` filter value. */
  name: string;
  description: string;
  /** Artifacts it reads (for docs and notes). */
  artifacts: string[];
  extract(x: ExtractContext): Promise<EventStream[]>;
}

/** Stable sort by time for in-memory sources (Array.prototype.sort is stable). */
export function byTime(events: TimelineEvent[]): TimelineEvent[] {
  return events.sort((a, b) => a.timestamp - b.timestamp);
}
