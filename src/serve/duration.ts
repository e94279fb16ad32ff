import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as the service's config writes it: `500ms`, `10s`, `5m`, `2h`, `7d`, or `0` (off).
 * Returns milliseconds, or undefined for anything else (a bare number other than 0 is refused: is
 * `10` ten seconds or ten milliseconds?).
 */
export function parseDuration(value: string | number): number | undefined {
  if (value === 0 || value === '0') return 0;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2]]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A zod field for a duration; the parsed value is milliseconds. */
export function durationField(defaultValue: string) {
  return z
    .union([z.string(), z.number()])
    .default(defaultValue)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(v)} is not a duration: write e.g. 500ms, 10s, 5m, 2h (or 0 for off)`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

/** `90000` → `1m30s`, for logs and docs. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 100) / 10}s`;
}
