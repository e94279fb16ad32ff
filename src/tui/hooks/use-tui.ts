import { useInput, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { EXIT } from '../../errors.js';
import { TuiController } from '../controller.js';
import type { TimelineIndex } from '../data/timeline-index.js';
import { keyToActions, splitKeys } from '../keymap.js';
import { timelineLayout, type Size } from '../layout.js';
import type { TimelineRow } from '../components/TimelineScreen.js';
import type { TuiServices } from '../services.js';
import type { TuiAction } from '../state/actions.js';
import { tuiReducer, type TuiState } from '../state/reducer.js';
import { lineAt, viewCount, type TimelineState } from '../state/timeline.js';
import type { TimelineEvent } from '../types.js';

export interface TuiHook {
  state: TuiState;
  dispatch: (a: TuiAction) => void;
  controller: TuiController;
  rows: TimelineRow[];
  selected?: TimelineEvent;
}

/** Reads only the rows on screen from the index: the cost of a frame does not grow with the case. */
export function timelineWindow(
  ix: TimelineIndex | undefined,
  tl: TimelineState,
  size: Size,
): { rows: TimelineRow[]; selected?: TimelineEvent } {
  if (!ix) return { rows: [] };
  const count = Math.min(viewCount(tl), ix.count);
  const n = Math.max(0, Math.min(timelineLayout(size).listRows, count - tl.top));
  const rows: TimelineRow[] = [];
  for (let i = tl.top; i < tl.top + n; i++) rows.push({ index: i, event: ix.event(lineAt(tl, i)) });
  return {
    rows,
    selected: count ? ix.event(lineAt(tl, Math.min(tl.cursor, count - 1))) : undefined,
  };
}

/**
 * The TUI's state machine: a reducer over engine events and key presses, with the controller doing
 * the work outside React. The reducer runs synchronously in dispatch (kept in a ref) so keys that
 * arrive before the next render still see the state the previous key produced.
 */
export function useTui(
  services: TuiServices,
  initial: TuiState,
  opts: {
    fixedSize?: boolean;
    signal?: AbortSignal;
    onStart?: (dispatch: (a: TuiAction) => void) => void;
  } = {},
): TuiHook {
  const ref = useRef(initial);
  const [state, setState] = useState(initial);
  const dispatchRef = useRef<(a: TuiAction) => void>(() => undefined);
  const controller = useMemo(
    () => new TuiController(services, (a) => dispatchRef.current(a)),
    [services],
  );
  const dispatch = useCallback(
    (a: TuiAction) => {
      const next = tuiReducer(ref.current, a);
      ref.current = next;
      setState(next);
      controller.handle(a, next);
    },
    [controller],
  );
  dispatchRef.current = dispatch;

  useEffect(() => {
    controller.start();
    opts.onStart?.(dispatch);
    return () => controller.dispose();
    // Only the controller: opts.onStart is a start-up hook, read once.
  }, [controller]);

  useInput((input, key) => {
    for (const [i, k] of splitKeys(input, key))
      for (const a of keyToActions(ref.current, i, k)) dispatch(a);
  });

  const { stdout } = useStdout();
  useEffect(() => {
    if (opts.fixedSize) return;
    const onResize = (): void =>
      dispatch({ type: 'resize', columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, dispatch, opts.fixedSize]);

  // SIGINT/SIGTERM from outside: stop the run the way Ctrl-C would, let it record custody, then leave.
  useEffect(() => {
    const signal = opts.signal;
    if (!signal) return;
    const onAbort = (): void => {
      controller.abortRun('interrupted (signal)');
      void controller.running.finally(() => dispatch({ type: 'quit', code: EXIT.interrupted }));
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }, [opts.signal, controller, dispatch]);

  const ix = controller.timeline;
  const tl = state.timeline;
  const win = useMemo(() => timelineWindow(ix, tl, state.size), [ix, tl, state.size]);
  return { state, dispatch, controller, rows: win.rows, selected: win.selected };
}
