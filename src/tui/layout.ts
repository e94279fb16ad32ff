/** Terminal size in cells. */
export interface Size {
  columns: number;
  rows: number;
}

export const MIN_SIZE: Size = { columns: 80, rows: 24 };

/**
 * One line is left unused: when Ink's frame is as tall as the terminal it clears the whole
 * screen on every frame (flicker), so every screen renders `rows - 1` lines.
 */
export function frameRows(size: Size): number {
  return Math.max(10, size.rows - 1);
}

/** Rows between the header line and the footer line. */
export function bodyRows(size: Size): number {
  return frameRows(size) - 2;
}

/** The timeline's list and detail pane heights (the status line and the rule take one row each). */
export function timelineLayout(size: Size): { listRows: number; detailRows: number } {
  const body = bodyRows(size);
  const detailRows = Math.max(5, Math.min(10, Math.floor(body * 0.35)));
  return { listRows: Math.max(3, body - detailRows - 2), detailRows };
}

/** Rows for a plain list screen (containers, playbooks, case artifacts): one title row. */
export function listRows(size: Size): number {
  return Math.max(3, bodyRows(size) - 1);
}

/** Keeps `cursor` inside a window of `height` rows starting at `top`, scrolling as little as possible. */
export function scrollTop(top: number, cursor: number, height: number, count: number): number {
  let t = top;
  if (cursor < t) t = cursor;
  if (cursor >= t + height) t = cursor - height + 1;
  return Math.max(0, Math.min(t, Math.max(0, count - height)));
}
