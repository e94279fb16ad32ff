import { TZDate } from '@date-fns/tz';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import type { TimelineEvent } from './event.js';
import { parseRfc3339 } from './time.js';

export interface TimelineFilter {
  /** µs, inclusive. */
  from?: number;
  /** µs, inclusive. */
  to?: number;
  sources?: ReadonlySet<string>;
  /** Lower-cased needle. */
  grep?: string;
}

/** Checks an IANA zone name (`UTC`, `Europe/Paris`); throws a UserError naming it otherwise. */
export function checkZone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    throw new UserError(`Unknown time zone "${safeText(zone)}"`, {
      hint: 'Use an IANA name such as UTC, Europe/Berlin or America/New_York.',
    });
  }
}

/** `07:34`, `7:34:05`, `07:34:05.123456`: a time of day. */
export const TIME_OF_DAY = /^(\d{1,2}):(\d{2}(?::(\d{2})(?:\.\d{1,6})?)?)$/;

const LOCAL = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?$/;

/**
 * `--from` / `--to`: RFC 3339 with an offset is taken as is; a date or date-time without an offset
 * is in `zone` (UTC by default). Returns µs since the epoch.
 */
const HINT =
  'Use 2026-11-28, 2026-11-28T20:17:00 (in --tz, default UTC), 2026-11-28T20:17:00Z, or a time of day (20:17, on the day the case was collected).';

/** The calendar fields as written must exist: Date would roll 2026-02-30 over to March 2 without a word. */
function checkCalendar(text: string, flag: string): void {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?/.exec(text.trim());
  if (!m) return;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const days = mo >= 1 && mo <= 12 ? new Date(Date.UTC(y, mo, 0)).getUTCDate() : 0;
  if (d < 1 || d > days || h > 23 || mi > 59 || s > 59) {
    throw new UserError(`${flag} "${safeText(text)}" is not a date that exists`, { hint: HINT });
  }
}

export function parseBound(text: string, zone: string, flag: string, day?: string): number {
  // A time of day alone (`07:34`, `07:34:05.120`) is that time on `day` (yyyy-mm-dd, in the zone).
  const tod = TIME_OF_DAY.exec(text.trim());
  if (tod && day) {
    const [h, rest] = [tod[1].padStart(2, '0'), tod[2]];
    return parseBound(`${day}T${h}:${rest}${tod[3] ? '' : ':00'}`, zone, flag);
  }
  checkCalendar(text, flag);
  const exact = parseRfc3339(text);
  if (exact) return exact.us;
  const m = LOCAL.exec(text.trim());
  if (!m) throw new UserError(`${flag} "${safeText(text)}" is not a time`, { hint: HINT });
  const d = new TZDate(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
    0,
    zone,
  );
  if (Number.isNaN(d.getTime()))
    throw new UserError(`${flag} "${safeText(text)}" is not a valid date`, { hint: HINT });
  // `--to 2026-11-28` means up to the end of that day (in the zone), not its first microsecond.
  if (flag === '--to' && m[4] === undefined)
    return (
      new TZDate(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1, 0, 0, 0, 0, zone).getTime() *
        1000 -
      1
    );
  return d.getTime() * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

/** True when the event passes every filter. `--grep` looks at the message and the path/command attrs. */
export function keep(e: TimelineEvent, f: TimelineFilter): boolean {
  if (f.from !== undefined && e.timestamp < f.from) return false;
  if (f.to !== undefined && e.timestamp > f.to) return false;
  if (f.sources && !f.sources.has(e.source)) return false;
  if (f.grep) {
    const a = e.attrs ?? {};
    const hay = [
      e.message,
      a.path,
      a.command,
      Array.isArray(a.cmdline) ? a.cmdline.join(' ') : undefined,
    ].filter((x) => typeof x === 'string') as string[];
    if (!hay.some((h) => h.toLowerCase().includes(f.grep!))) return false;
  }
  return true;
}
