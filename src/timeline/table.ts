import { tz } from '@date-fns/tz';
import { format } from 'date-fns';
import { clip } from '../util/sanitize.js';
import type { TimelineEvent } from './event.js';

/** `2026-11-28 20:17:00.123456Z` in UTC, `… +01:00` elsewhere (date-fns; µs appended by hand). */
export function formatTime(us: number, zone = 'UTC'): string {
  const ms = Math.floor(us / 1000);
  const micro = String(us - ms * 1000).padStart(3, '0');
  if (zone === 'UTC') return `${format(ms, 'yyyy-MM-dd HH:mm:ss.SSS', { in: tz('UTC') })}${micro}Z`;
  return `${format(ms, 'yyyy-MM-dd HH:mm:ss.SSS', { in: tz(zone) })}${micro}${format(ms, 'xxx', { in: tz(zone) })}`;
}

interface Column {
  title: string;
  width: number;
  get: (e: TimelineEvent) => string;
}

/**
 * A table that fits `width` columns: time, source, actor, what, message; when space runs short the
 * what, actor and then the source column go, and the message is clipped. `Infinity` cuts nothing. Every cell passes through clip() →
 * safeText(): no control character from the evidence reaches the terminal.
 */
export class TimelineTable {
  private readonly cols: Column[];
  private readonly msgWidth: number;

  constructor(
    width: number,
    private readonly zone = 'UTC',
    /** An incident's merged timeline: a CONTAINER column (attrs.container) after the time. */
    container?: { width: number },
  ) {
    const timeWidth = formatTime(0, zone).length;
    const all: Column[] = [
      { title: 'TIME', width: timeWidth, get: (e) => formatTime(e.timestamp, this.zone) },
      ...(container
        ? [
            {
              title: 'CONTAINER',
              width: container.width,
              get: (e: TimelineEvent) => String(e.attrs.container ?? ''),
            },
          ]
        : []),
      { title: 'SOURCE', width: 9, get: (e) => e.source },
      { title: 'ACTOR', width: 9, get: (e) => e.actor },
      // Which time of the record this is (one file yields several rows: mtime, ctime, birth…).
      { title: 'WHAT', width: 18, get: (e) => e.timestamp_desc },
    ];
    const MIN_MSG = 24;
    // Drop the least useful columns until the message gets a usable width.
    while (all.length > 1 && all.reduce((n, c) => n + c.width + 1, 0) + MIN_MSG > width)
      all.splice(all.length - 1, 1);
    this.cols = all;
    this.msgWidth = Math.max(8, width - all.reduce((n, c) => n + c.width + 1, 0));
  }

  private line(cells: string[]): string {
    // An unbounded table (a pipe, a file, --wide) cuts nothing: a long cell pushes the rest right.
    const cut = Number.isFinite(this.msgWidth)
      ? (s: string, w: number) => clip(s, w)
      : (s: string) => clip(s, Infinity);
    const fixed = this.cols.map((c, i) => cut(cells[i], c.width).padEnd(c.width)).join(' ');
    return `${fixed} ${clip(cells[cells.length - 1], this.msgWidth)}`.trimEnd();
  }

  header(): string {
    return this.line([...this.cols.map((c) => c.title), 'MESSAGE']);
  }

  row(e: TimelineEvent): string {
    return this.line([...this.cols.map((c) => c.get(e)), e.message]);
  }
}
