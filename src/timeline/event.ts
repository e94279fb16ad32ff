import { isoMicros, type Instant } from './time.js';

/** Who caused an event. The attacker is not knowable from evidence, so there is no such label. */
export type Actor =
  /** Our own handling: cirt's steps and the engine events they caused. */
  | 'responder'
  /** Something the container's processes did (logs, file changes, processes, sockets). */
  | 'container'
  /** Engine lifecycle and API activity by clients other than us (create/start/exec/…). */
  | 'engine'
  /** Image build (layer creation). */
  | 'image';

/** Where an event came from in the evidence. */
export interface EventRef {
  /** Case-relative artifact path, e.g. `logs/stdout.log`. */
  artifact: string;
  /** 1-based line for line-oriented artifacts (.log, .jsonl). */
  line?: number;
  /** 0-based index for JSON arrays / objects with entries. */
  entry?: number;
  /** Field of the record that holds the time, e.g. `State.StartedAt` or `mtime`. */
  field?: string;
}

/** One timeline event (one line of timeline.jsonl). */
export interface TimelineEvent {
  /** Stable, derived from source + ref: the same case always yields the same ids. */
  id: string;
  /** ISO 8601, explicit `+00:00` offset, microseconds. */
  datetime: string;
  /** Microseconds since the epoch; equals `datetime`. */
  timestamp: number;
  /** What the time means (Timesketch's field), e.g. `Container Started`, `Content Modification Time`. */
  timestamp_desc: string;
  message: string;
  /** Extractor name (`logs`, `fs`, `engine`, …); `--source` filters on it. */
  source: string;
  /** `<area>:<what>`, e.g. `fs:added`, `exec:session`, `log:stderr`. */
  kind: string;
  actor: Actor;
  ref: EventRef;
  attrs: Record<string, unknown>;
  /** The engine the case's container ran on (case.json `engine.name`); absent for cases made before engines had names. */
  engine?: string;
}

/** The stable id of an event: readable and unique per (source, artifact, position, field). */
export function eventId(source: string, ref: EventRef): string {
  const pos = position(ref);
  return `${source}:${ref.artifact}${pos ? `#${pos}` : ''}${ref.field ? `/${ref.field}` : ''}`;
}

const position = (ref: { line?: number; entry?: number }): string =>
  ref.line !== undefined ? `L${ref.line}` : ref.entry !== undefined ? `E${ref.entry}` : '';

/** Builds an event from its parts; `datetime` and `id` are derived so they can never disagree. */
export function makeEvent(p: {
  at: Instant;
  desc: string;
  message: string;
  source: string;
  kind: string;
  actor: Actor;
  ref: EventRef;
  attrs?: Record<string, unknown>;
}): TimelineEvent {
  const attrs = p.attrs ?? {};
  return {
    id: eventId(p.source, p.ref),
    datetime: isoMicros(p.at.us),
    timestamp: p.at.us,
    timestamp_desc: p.desc,
    message: p.message,
    source: p.source,
    kind: p.kind,
    actor: p.actor,
    ref: p.ref,
    attrs: p.at.nanos ? { ...attrs, timeNanos: p.at.nanos } : attrs,
  };
}

/** A stable key of where an event points in the evidence (artifact + line/entry), for linking findings. */
export function refKey(ref: { artifact: string; line?: number; entry?: number }): string {
  return `${ref.artifact}#${position(ref)}`;
}
