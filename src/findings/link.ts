import { refKey, type TimelineEvent } from '../timeline/event.js';
import { readLines } from '../timeline/lines.js';
import type { CaseSource } from '../evidence/case-source.js';
import type { Finding } from './types.js';

/** Which findings point at each artifact line/entry. */
function index(findings: Finding[]): Map<string, Finding[]> {
  const m = new Map<string, Finding[]>();
  for (const f of findings) {
    for (const e of f.evidence) {
      const k = refKey({ artifact: e.artifact, ...e.ref });
      m.set(k, [...(m.get(k) ?? []), f]);
    }
  }
  return m;
}

function attach(
  byRef: Map<string, Finding[]>,
  e: Pick<TimelineEvent, 'id' | 'ref'> & Partial<Pick<TimelineEvent, 'datetime' | 'timestamp'>>,
): void {
  for (const f of byRef.get(refKey(e.ref)) ?? []) {
    if (!f.events.includes(e.id)) f.events.push(e.id);
    // A finding's time is that of its earliest event: when what it points at happened.
    if (typeof e.timestamp === 'number' && typeof e.datetime === 'string') {
      const first = f.time === undefined || e.timestamp < (firstUs.get(f) ?? Infinity);
      if (first) {
        f.time = e.datetime;
        firstUs.set(f, e.timestamp);
      }
    }
  }
}

/** The µs of each finding's `time`, to compare without parsing it back. */
const firstUs = new WeakMap<Finding, number>();

/** Links findings to the events of a timeline being built (one pass over the stream). */
export async function linkEvents(
  findings: Finding[],
  events: AsyncIterable<TimelineEvent>,
): Promise<void> {
  const byRef = index(findings);
  for await (const e of events) attach(byRef, e);
}

/**
 * Links findings to the events of a written timeline.jsonl. Only lines about an artifact some finding
 * cites are parsed, so a million log lines cost a substring test each.
 */
export async function linkJsonl(findings: Finding[], src: CaseSource, rel: string): Promise<void> {
  const byRef = index(findings);
  const needles = [
    ...new Set(
      findings.flatMap((f) => f.evidence.map((e) => `"artifact":${JSON.stringify(e.artifact)}`)),
    ),
  ];
  if (!needles.length) return;
  for await (const line of readLines(src.createReadStream(rel))) {
    if (!needles.some((n) => line.includes(n))) continue;
    try {
      attach(byRef, JSON.parse(line) as TimelineEvent);
    } catch {
      // a damaged line cannot be linked; the timeline reader reports it
    }
  }
}
