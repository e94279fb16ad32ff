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

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|z|[+-]\d\d:?\d\d)$/;

/**
 * Parses an RFC 3339 time (the engine's RFC3339Nano included) without losing sub-millisecond digits,
 * which `Date.parse` would drop. Returns undefined for anything else, and for Go's zero time
 * (`0001-01-01T00:00:00Z`, the engine's "never").
 */
export function parseRfc3339(text: string): Instant | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number);
  if (year < 1971 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return undefined;
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
  return frac.length > 6 ? { us, nanos: `${us}${frac.slice(6).padEnd(3, '0')}` } : { us };
}

/** The engine's `timeNano` (a JSON number past 2^53, so already rounded) or `time` in seconds. */
export function fromEngineEvent(timeNano: unknown, time: unknown): Instant | undefined {
  if (typeof timeNano === 'string' && /^\d{10,19}$/.test(timeNano)) {
    return { us: Number(timeNano.slice(0, -3)), nanos: timeNano };
  }
  if (typeof timeNano === 'number' && Number.isFinite(timeNano) && timeNano > 1e17) {
    return { us: Math.floor(timeNano / 1000) };
  }
  if (typeof time === 'number' && Number.isFinite(time) && time > 0) return { us: Math.round(time * 1e6) };
  return undefined;
}

/** Unix seconds (possibly fractional) → Instant. */
export function fromUnixSeconds(s: unknown): Instant | undefined {
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) return undefined;
  return { us: Math.round(s * 1e6) };
}

/**
 * A time as collectors write it: an RFC 3339 string, or a number whose size says its unit
 * (seconds, milliseconds or microseconds since the epoch).
 */
export function parseAnyTime(v: unknown): Instant | undefined {
  if (typeof v === 'string') return parseRfc3339(v);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  if (v < 1e11) return { us: Math.round(v * 1e6) };
  if (v < 1e14) return { us: Math.round(v * 1e3) };
  if (v < 1e17) return { us: Math.round(v) };
  return { us: Math.floor(v / 1000) };
}

/** µs → `2026-11-28T20:17:00.123456+00:00` (Timesketch's preferred form: explicit offset, microseconds). */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const sub = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(sub).padStart(3, '0')}+00:00`;
}

/** µs → Unix seconds (floor), for the bodyfile. */
export function unixSeconds(us: number): number {
  return Math.floor(us / 1e6);
}
