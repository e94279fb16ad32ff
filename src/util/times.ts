/**
 * Time values for the engine's `since`/`until` query params. The API takes Unix seconds with an
 * optional fraction (`1700000000.123456789`); playbooks may also say RFC 3339 or a duration back
 * from now (`90s`, `15m`, `2h`, `7d`), as the docker CLI does.
 */
export const ENGINE_TIME =
  /^(\d{1,12}(\.\d{1,9})?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)|\d{1,9}[smhd])$/;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
/** RFC 3339 split into the part Date.parse reads, the fraction (up to ns) and the zone. */
const RFC3339 = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Converts a validated ENGINE_TIME string to `seconds[.nanoseconds]` as the engine wants it. */
export function toEngineTime(value: string, nowMs = Date.now()): string {
  if (/^\d{1,12}(\.\d{1,9})?$/.test(value)) return value;
  const rel = /^(\d{1,9})([smhd])$/.exec(value);
  if (rel)
    return String(Math.max(0, Math.floor(nowMs / 1000) - Number(rel[1]) * UNIT_SECONDS[rel[2]]));
  const m = RFC3339.exec(value);
  if (!m) throw new Error(`"${value}" is not a time the engine understands`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new Error(`"${value}" is not a valid date`);
  const frac = m[2] ? `.${m[2].padEnd(9, '0')}` : '';
  return `${Math.floor(ms / 1000)}${frac}`;
}

/** Unix seconds (with fraction) of an RFC 3339 time with up to nanoseconds, e.g. the engine's `Created`. */
export function rfc3339ToSeconds(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return ms / 1000 + (m[2] ? Number(`0.${m[2]}`) : 0);
}
