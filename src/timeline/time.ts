/**
 * Time handling for the timeline. Every event carries an integer count of microseconds since the
 * epoch (`timestamp`, what Timesketch wants) and the same instant as ISO 8601 with an explicit offset
 * (`datetime`). Sources with nanoseconds keep the full value as a string attribute.
 */

export interface Instant {
  /** Microseconds since the epoch (UTC). */
  us: number;
  /** Integer nanoseconds since the epoch, as text, when the source is finer than µs; else undefined. */
  nanos?: string;
}

/**
 * The last µs a timeline can hold: 9999-12-31T23:59:59.999999Z. Beyond it `Date` (±8.64e15 ms) and
 * ISO 8601's four-digit year give out; a collected time past it (an mtime of 1e300, a forged engine
 * time) is not a time this case can place, so parsers return undefined and callers warn.
 */
export const MAX_US = Date.UTC(9999, 11, 31, 23, 59, 59, 999) * 1000 + 999;

/** A timestamp the timeline can format and sort: an integer count of µs in (0, MAX_US]. */
export function inRange(us: unknown): us is number {
  return typeof us === 'number' && Number.isInteger(us) && us > 0 && us <= MAX_US;
}

const checked = (i: Instant): Instant | undefined => (inRange(i.us) ? i : undefined);

/** A value that was there but is no usable time, for warnings (`1e+300`, `"yesterday"`); clipped. */
export function badTimeText(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

const RFC3339 =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|z|[+-]\d\d:?\d\d)$/;

/**
 * Parses an RFC 3339 time (the engine's RFC3339Nano included) without losing sub-millisecond digits,
 * which `Date.parse` would drop. Returns undefined for anything else, and for Go's zero time
 * (`0001-01-01T00:00:00Z`, the engine's "never").
 */
export function parseRfc3339(text: string): Instant | undefined {
  // Fast path for the engine's own stamps (`…:SS.fffffffffZ`): a million log lines share a few
  // thousand distinct seconds, so the calendar part is computed once per second.
  const n = text.length;
  if (
    n >= 20 &&
    n <= 30 &&
    text.charCodeAt(n - 1) === 90 /* Z */ &&
    (text.charCodeAt(19) === 46 /* . */ || n === 20)
  ) {
    const head = text.slice(0, 19);
    if (head === lastHead) {
      let fracUs = 0;
      let digits = 0;
      let sub = '';
      for (let i = 20; i < n - 1; i++) {
        const c = text.charCodeAt(i) - 48;
        if (c < 0 || c > 9) return slowParse(text);
        if (digits < 6) fracUs = fracUs * 10 + c;
        else sub += text[i];
        digits++;
      }
      if (n > 20 && digits === 0) return slowParse(text);
      for (let d = digits; d < 6; d++) fracUs *= 10;
      const us = lastMs * 1000 + fracUs;
      return sub && sub !== '0' && sub !== '00' && sub !== '000'
        ? { us, nanos: `${us}${sub.padEnd(3, '0')}` }
        : { us };
    }
    const r = slowParse(text);
    if (r) {
      lastHead = head;
      lastMs = Math.floor(r.us / 1e6) * 1000;
    }
    return r;
  }
  return slowParse(text);
}

let lastHead = '';
let lastMs = 0;

function slowParse(text: string): Instant | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number);
  if (
    year < 1971 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour > 23 ||
    min > 59 ||
    sec > 60
  )
    return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, min, sec);
  if (Number.isNaN(ms)) return undefined;
  const zone = m[8];
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const frac = m[7] ?? '';
  const fracUs = frac ? Number(frac.slice(0, 6).padEnd(6, '0')) : 0;
  const us = ms * 1000 + fracUs;
  // Sub-µs digits that are all zero add nothing to `us`.
  return /[1-9]/.test(frac.slice(6))
    ? { us, nanos: `${us}${frac.slice(6).padEnd(3, '0')}` }
    : { us };
}

/** The engine's `timeNano` (a JSON number past 2^53, so already rounded) or `time` in seconds. */
export function fromEngineEvent(timeNano: unknown, time: unknown): Instant | undefined {
  if (typeof timeNano === 'string' && /^\d{10,19}$/.test(timeNano)) {
    return checked({ us: Number(timeNano.slice(0, -3)), nanos: timeNano });
  }
  if (typeof timeNano === 'number' && Number.isFinite(timeNano) && timeNano > 1e17) {
    return checked({ us: Math.floor(timeNano / 1000) });
  }
  if (typeof time === 'number' && Number.isFinite(time) && time > 0)
    return checked({ us: Math.round(time * 1e6) });
  return undefined;
}

/** Unix seconds (possibly fractional) → Instant. */
export function fromUnixSeconds(s: unknown): Instant | undefined {
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) return undefined;
  return checked({ us: Math.round(s * 1e6) });
}

/**
 * A time as collectors write it: an RFC 3339 string, or a number whose size says its unit
 * (seconds, milliseconds or microseconds since the epoch).
 */
export function parseAnyTime(v: unknown): Instant | undefined {
  if (typeof v === 'string') return parseRfc3339(v);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  if (v < 1e11) return checked({ us: Math.round(v * 1e6) });
  if (v < 1e14) return checked({ us: Math.round(v * 1e3) });
  if (v < 1e17) return checked({ us: Math.round(v) });
  return checked({ us: Math.floor(v / 1000) });
}

let isoSecond = NaN;
let isoHead = '';

/** µs → `2026-11-28T20:17:00.123456+00:00` (Timesketch's preferred form: explicit offset, microseconds). */
export function isoMicros(us: number): string {
  const second = Math.floor(us / 1e6);
  // Consecutive events mostly share their second: format the calendar part once per second.
  if (second !== isoSecond) {
    isoSecond = second;
    isoHead = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${isoHead}.${String(us - second * 1e6).padStart(6, '0')}+00:00`;
}

/** µs → Unix seconds (floor), for the bodyfile. */
export function unixSeconds(us: number): number {
  return Math.floor(us / 1e6);
}
