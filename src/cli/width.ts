import type { CommandIO } from './io.js';

/**
 * How wide a command's table may be, or `Infinity` for "never cut": `--wide` never cuts; an explicit
 * width (tests, `--columns`) or `COLUMNS` is taken as given; a terminal is cut to its width; a pipe or
 * a file is never cut, since a clipped hash or message there is lost for good.
 */
export function outputWidth(io: CommandIO, o: { wide?: boolean; columns?: number } = {}): number {
  if (o.wide) return Infinity;
  if (o.columns && o.columns > 0) return o.columns;
  const fromEnv = Number(io.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const out = io.out as {
    isTTY?: boolean;
    columns?: number;
    raw?: { isTTY?: boolean; columns?: number };
  };
  const tty = out.isTTY ?? out.raw?.isTTY;
  if (!tty) return Infinity;
  return out.columns ?? out.raw?.columns ?? 80;
}

/**
 * Lays out a table in `width` columns: every column is as wide as its widest cell, and when the
 * line is too long the `shrink` columns (by index, first shrunk first) give up width, down to their
 * title's length, cells clipped with an ellipsis. Cells must already be made safe (safeText).
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  width: number,
  shrink: readonly number[] = [],
): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const total = (): number => widths.reduce((n, w) => n + w, 0) + 2 * (widths.length - 1);
  for (const i of shrink) {
    const over = total() - width;
    if (over <= 0) break;
    widths[i] = Math.max(head[i].length, widths[i] - over);
  }
  const cut = (s: string, w: number): string =>
    s.length <= w ? s.padEnd(w) : w <= 1 ? s.slice(0, w) : `${s.slice(0, w - 1)}…`;
  return [head, ...rows].map((r) =>
    r
      .map((cell, i) => cut(cell, widths[i]))
      .join('  ')
      .trimEnd(),
  );
}
