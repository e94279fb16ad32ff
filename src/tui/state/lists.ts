import { stripEscapes } from '../../util/sanitize.js';
import type { ContainerRow, PlaybookEntry } from '../types.js';
import type { TuiAction } from './actions.js';

export interface ContainersState {
  status: 'loading' | 'ready' | 'error';
  rows: ContainerRow[];
  error?: string;
  filter: string;
  /** Selection by id, so a live update that reorders the list keeps the same container selected. */
  selectedId?: string;
}

export interface PlaybooksState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  target?: ContainerRow;
  entries: PlaybookEntry[];
  cursor: number;
  error?: string;
}

export const initialContainers: ContainersState = { status: 'loading', rows: [], filter: '' };
export const initialPlaybooks: PlaybooksState = { status: 'idle', entries: [], cursor: 0 };

/** Containers matching the filter (name, image, id prefix, state, quarantine case), running first. */
export function visibleContainers(s: ContainersState): ContainerRow[] {
  const f = s.filter.trim().toLowerCase();
  const rows = f
    ? s.rows.filter(
        (r) =>
          [r.name, r.image, r.state, r.quarantinedBy ?? ''].some((t) =>
            stripEscapes(t).toLowerCase().includes(f),
          ) || r.id.startsWith(f),
      )
    : s.rows;
  return rows;
}

/** Index of the selection in the visible list (0 when it is filtered out). */
export function selectedIndex(s: ContainersState, visible = visibleContainers(s)): number {
  const i = visible.findIndex((r) => r.id === s.selectedId);
  return i < 0 ? 0 : i;
}

export function selectedContainer(s: ContainersState): ContainerRow | undefined {
  const v = visibleContainers(s);
  return v[selectedIndex(s, v)];
}

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

function sortRows(rows: ContainerRow[]): ContainerRow[] {
  const rank = (r: ContainerRow): number =>
    r.state === 'running' ? 0 : r.state === 'paused' ? 1 : 2;
  return [...rows].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

export function containersReducer(s: ContainersState, a: TuiAction): ContainersState {
  switch (a.type) {
    case 'containers:loaded': {
      const rows = sortRows(a.rows);
      const keep = rows.some((r) => r.id === s.selectedId);
      return {
        ...s,
        status: 'ready',
        rows,
        error: undefined,
        selectedId: keep ? s.selectedId : rows[0]?.id,
      };
    }
    case 'containers:error':
      return { ...s, status: s.rows.length ? 'ready' : 'error', error: a.message };
    case 'containers:move': {
      const v = visibleContainers(s);
      if (!v.length) return s;
      return { ...s, selectedId: v[clamp(selectedIndex(s, v) + a.delta, 0, v.length - 1)].id };
    }
    case 'containers:filter': {
      const next = { ...s, filter: a.text };
      const v = visibleContainers(next);
      // The selection follows the filter: keep it when it still matches, else the first match.
      return v.some((r) => r.id === s.selectedId)
        ? next
        : { ...next, selectedId: v[0]?.id ?? s.selectedId };
    }
    default:
      return s;
  }
}

export function playbooksReducer(s: PlaybooksState, a: TuiAction): PlaybooksState {
  switch (a.type) {
    case 'playbooks:request':
      return { status: 'loading', target: a.target, entries: [], cursor: 0 };
    case 'playbooks:loaded':
      return {
        ...s,
        status: 'ready',
        entries: a.entries,
        cursor: clamp(s.cursor, 0, Math.max(0, a.entries.length - 1)),
      };
    case 'playbooks:error':
      return { ...s, status: 'error', error: a.message };
    case 'playbooks:move':
      return { ...s, cursor: clamp(s.cursor + a.delta, 0, Math.max(0, s.entries.length - 1)) };
    default:
      return s;
  }
}
