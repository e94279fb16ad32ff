import { latestOf, type Diagnostics } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type EventStream, type Extractor } from '../extractor.js';
import { readLineBatches } from '../lines.js';
import type { CaseSource } from '../../evidence/case-source.js';
import { parseRfc3339, type Instant } from '../time.js';

/** Longest log line shown whole in the timeline; the evidence file keeps every byte. */
export const MAX_LOG_LINE = 4 * 1024 * 1024;

const STREAMS = ['stdout', 'stderr', 'tty'] as const;

/** `<RFC3339Nano> <text>` as the engine writes with timestamps=1; undefined when the prefix is not a time. */
function splitLine(line: string): { at: Instant; text: string } | undefined {
  const sp = line.indexOf(' ');
  const at = parseRfc3339(sp === -1 ? line : line.slice(0, sp));
  return at ? { at, text: sp === -1 ? '' : line.slice(sp + 1) } : undefined;
}

function toEvent(
  rel: string,
  stream: string,
  line: number,
  at: Instant,
  text: string,
  clippedBytes?: number,
): TimelineEvent {
  // The stream is in `kind` (log:stdout); attrs stay small: a million of them are written twice.
  // A clipped line says so in its attrs too (the marker in the text alone could be the container's own).
  return makeEvent({
    at,
    desc: 'Log Line',
    message: text,
    source: 'logs',
    kind: `log:${stream}`,
    actor: 'container',
    ref: { artifact: rel, line },
    ...(clippedBytes ? { attrs: { clippedBytes } } : {}),
  });
}

/** Streams one log file's events, a batch per chunk read; lines without a time prefix are warnings. */
async function* logEvents(
  src: CaseSource,
  rel: string,
  stream: string,
  diag: Diagnostics,
  maxLine: number,
): AsyncGenerator<TimelineEvent[]> {
  let n = 0;
  const clipped = new Map<number, number>();
  for await (const lines of readLineBatches(src.createReadStream(rel), {
    maxLine,
    onClip: (i, bytes) => clipped.set(i, bytes),
  })) {
    const batch: TimelineEvent[] = [];
    lines.forEach((line, i) => {
      n++;
      if (!line) return;
      const cut = clipped.get(i);
      if (cut)
        diag.warn(
          `${rel}:${n}: line longer than ${maxLine.toLocaleString('en-US')} bytes; ${cut.toLocaleString('en-US')} bytes clipped in the timeline (the log file keeps them)`,
          rel,
        );
      const p = splitLine(line);
      if (p) batch.push(toEvent(rel, stream, n, p.at, p.text, cut));
      else diag.warn(`${rel}:${n}: no RFC 3339 time prefix; line skipped`, rel);
    });
    clipped.clear();
    yield batch;
  }
}

/**
 * A log file is in time order as the engine wrote it, so it is streamed, never held. One cheap pass
 * checks that first; a file that is not in order (edited, concatenated) is sorted in memory instead.
 */
async function inOrder(src: CaseSource, rel: string): Promise<boolean> {
  let last = -Infinity;
  // Only the time prefix is read here: a long line is clipped to its first bytes at once.
  for await (const lines of readLineBatches(src.createReadStream(rel), { maxLine: 256 })) {
    for (const line of lines) {
      const sp = line.indexOf(' ');
      const at = parseRfc3339(sp === -1 ? line : line.slice(0, sp));
      if (!at) continue;
      if (at.us < last) return false;
      last = at.us;
    }
  }
  return true;
}

/** Container log lines (stdout, stderr, or the TTY stream). */
export const logsExtractor: Extractor = {
  name: 'logs',
  description: 'container log lines (logs/stdout.log, logs/stderr.log, logs/tty.log), streamed',
  artifacts: STREAMS.map((s) => `logs/${s}.log`),
  async extract(x) {
    const out: EventStream[] = [];
    const maxLine = x.maxLogLine ?? MAX_LOG_LINE;
    for (const stream of STREAMS) {
      const rel = latestOf(x.files, `logs/${stream}.log`);
      if (!rel) {
        if (stream !== 'tty') x.diag.note(`logs: no logs/${stream}.log; skipped`);
        continue;
      }
      if (await inOrder(x.src, rel)) {
        out.push(logEvents(x.src, rel, stream, x.diag, maxLine));
        continue;
      }
      x.diag.warn(`${rel}: lines are not in time order; sorted in memory`, rel);
      const all: TimelineEvent[] = [];
      for await (const batch of logEvents(x.src, rel, stream, x.diag, maxLine))
        for (const e of batch) all.push(e);
      out.push(byTime(all));
    }
    return out;
  },
};
