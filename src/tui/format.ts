import { errorMessage, hintSuffix } from '../errors.js';
import { humanBytes } from '../util/format.js';
import { clip } from '../util/sanitize.js';

/** 65 → "1m05s", 3700 → "1h01m". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function rate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '' : `${humanBytes(Math.round(bytesPerSecond))}/s`;
}

/** Sanitised and padded/clipped to exactly `width` characters (for table columns). */
export function cell(text: string, width: number): string {
  if (width <= 0) return '';
  return clip(text, width).padEnd(width);
}

/**
 * Sanitised and clipped in the middle to at most `width` characters: container names of one incident
 * share their prefix (`cirt-lab-7954-victim`, `cirt-lab-7954-attacker`), so the end must stay visible.
 */
export function clipMiddle(text: string, width: number): string {
  const s = clip(text, Number.MAX_SAFE_INTEGER);
  if (s.length <= width) return s;
  if (width <= 3) return s.slice(0, width);
  const tail = Math.ceil((width - 1) / 2);
  return `${s.slice(0, width - 1 - tail)}…${s.slice(s.length - tail)}`;
}

/** `2024-05-01T12:00:00.123456+00:00` → `2024-05-01 12:00:00.123456` (the list is always UTC). */
export function shortTime(datetime: string | undefined, us?: number): string {
  if (typeof datetime === 'string' && datetime.length >= 19)
    return datetime
      .replace('T', ' ')
      .replace(/(\+00:00|Z)$/, '')
      .slice(0, 26);
  // Beyond ±8.64e18 µs Date has no ISO form (toISOString throws): a tampered time shows as `?`.
  if (typeof us === 'number' && Number.isFinite(us) && Math.abs(us) <= 8.64e18) {
    const iso = new Date(Math.floor(us / 1000)).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(Math.floor(us % 1_000_000)).padStart(6, '0')}`;
  }
  return '?';
}

/** `▕███████░░░░░▏` for a known fraction. */
export function bar(fraction: number, width: number): string {
  const w = Math.max(4, width);
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * w);
  return `${'█'.repeat(full)}${'░'.repeat(w - full)}`;
}

/**
 * An error as the TUI shows it: the message and, for errors that know it, what to do next (the CLI
 * prints the hint on its own line; on a screen it follows an arrow).
 */
export function errorText(err: unknown): string {
  return `${errorMessage(err)}${hintSuffix(err, ' → ')}`;
}
