import { scrollTop, timelineLayout, type Size } from '../layout.js';
import type { TuiAction } from './actions.js';

export interface TimelineState {
  status: 'idle' | 'indexing' | 'ready' | 'error';
  dir?: string;
  /** Lines indexed so far; equals the total once `status` is ready. */
  total: number;
  sources: string[];
  /** Filtered view: the matching line numbers, or null for every line. */
  lines: Uint32Array | null;
  query: string;
  source: string | null;
  /** A search over the whole file is still running (`lines` grows as it goes). */
  searching: boolean;
  /** Selected index inside the view, and the view's first visible index. */
  cursor: number;
  top: number;
  /** Event ids that findings point at (drawn highlighted). */
  highlights: ReadonlySet<string>;
  error?: string;
}

export const initialTimeline: TimelineState = {
  status: 'idle',
  total: 0,
  sources: [],
  lines: null,
  query: '',
  source: null,
  searching: false,
  cursor: 0,
  top: 0,
  highlights: new Set(),
};

export function viewCount(s: TimelineState): number {
  return s.lines ? s.lines.length : s.total;
}

/** The file line number behind view index `i`. */
export function lineAt(s: TimelineState, i: number): number {
  return s.lines ? s.lines[i] : i;
}

function moveTo(s: TimelineState, index: number, size: Size): TimelineState {
  const count = viewCount(s);
  const cursor = count ? Math.max(0, Math.min(count - 1, index)) : 0;
  return { ...s, cursor, top: scrollTop(s.top, cursor, timelineLayout(size).listRows, count) };
}

/** The Timeline screen's state. Rows themselves are read from the index for the visible window only. */
export function timelineReducer(s: TimelineState, a: TuiAction, size: Size): TimelineState {
  switch (a.type) {
    case 'timeline:request':
      return {
        ...initialTimeline,
        status: 'indexing',
        dir: a.dir,
        highlights: s.dir === a.dir ? s.highlights : new Set(),
      };
    case 'timeline:progress':
      return { ...s, status: a.done ? 'ready' : 'indexing', total: a.indexed, sources: a.sources };
    case 'timeline:error':
      return { ...s, status: 'error', error: a.message };
    case 'timeline:highlights':
      return { ...s, highlights: new Set(a.ids) };
    case 'timeline:move':
      return moveTo(s, s.cursor + a.delta, size);
    case 'timeline:goto':
      return moveTo(s, a.index, size);
    case 'timeline:search':
      return {
        ...s,
        query: a.query,
        source: a.source,
        searching: Boolean(a.query || a.source),
        lines: a.query || a.source ? new Uint32Array(0) : null,
        cursor: 0,
        top: 0,
      };
    case 'timeline:view': {
      // Results of an older search that was superseded are dropped.
      if (a.query !== s.query || a.source !== s.source) return s;
      return moveTo({ ...s, lines: a.lines, searching: !a.done }, s.cursor, size);
    }
    case 'resize':
      return moveTo(s, s.cursor, { columns: a.columns, rows: a.rows });
    default:
      return s;
  }
}
