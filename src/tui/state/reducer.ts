import { MIN_SIZE, type Size } from '../layout.js';
import type { CaseData, VerifyOutcome } from '../types.js';
import type { InputField, Prompt, Screen, TuiAction } from './actions.js';
import {
  containersReducer,
  initialContainers,
  initialPlaybooks,
  playbooksReducer,
  type ContainersState,
  type PlaybooksState,
} from './lists.js';
import {
  incidentActive,
  incidentReducer,
  initialIncident,
  type IncidentState,
} from './incident.js';
import { initialRun, runActive, runReducer, type RunState } from './run.js';
import { initialTimeline, timelineReducer, type TimelineState } from './timeline.js';

export interface CaseState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  data?: CaseData;
  error?: string;
  cursor: number;
  verifying: boolean;
  verify?: VerifyOutcome;
  /** A release running, then its result line. */
  releasing?: boolean;
  released?: { ok: boolean; line: string };
}

export interface TuiState {
  /** Screens entered, the current one last; Esc/q pops. */
  stack: Screen[];
  size: Size;
  help: boolean;
  prompt: Prompt | null;
  input: InputField | null;
  message: string | null;
  /** Set when the app should end; the root component calls exit(). */
  exit: { code: number } | null;
  containers: ContainersState;
  playbooks: PlaybooksState;
  run: RunState;
  incident: IncidentState;
  case: CaseState;
  timeline: TimelineState;
}

export function initialState(size: Size = MIN_SIZE, first: Screen = 'containers'): TuiState {
  return {
    stack: [first],
    size,
    help: false,
    prompt: null,
    input: null,
    message: null,
    exit: null,
    containers: initialContainers,
    playbooks: initialPlaybooks,
    run: initialRun,
    incident: initialIncident,
    case: { status: 'idle', cursor: 0, verifying: false },
    timeline: initialTimeline,
  };
}

export const screenOf = (s: TuiState): Screen => s.stack[s.stack.length - 1];

function push(s: TuiState, screen: Screen): TuiState {
  if (screenOf(s) === screen) return s;
  return {
    ...s,
    stack: [...s.stack.filter((x) => x !== screen), screen],
    help: false,
    input: null,
  };
}

function caseReducer(s: CaseState, a: TuiAction): CaseState {
  switch (a.type) {
    case 'case:request':
      return { status: 'loading', cursor: 0, verifying: false };
    case 'case:loaded':
      return { ...s, status: 'ready', data: a.data, error: undefined };
    case 'case:error':
      return { ...s, status: 'error', error: a.message };
    case 'case:move': {
      const n = s.data?.artifacts.length ?? 0;
      return { ...s, cursor: Math.max(0, Math.min(Math.max(0, n - 1), s.cursor + a.delta)) };
    }
    case 'case:verify':
      return { ...s, verifying: true, verify: undefined };
    case 'case:verified':
      return { ...s, verifying: false, verify: a.outcome };
    case 'case:release':
      return { ...s, releasing: true, released: undefined };
    case 'case:released':
      return { ...s, releasing: false, released: { ok: a.ok, line: a.line } };
    default:
      return s;
  }
}

/** Navigation, overlays and the exit request; everything else is delegated to the screens' reducers. */
function shell(s: TuiState, a: TuiAction): TuiState {
  switch (a.type) {
    case 'resize':
      return { ...s, size: { columns: a.columns, rows: a.rows } };
    case 'nav:push':
      return push(s, a.screen);
    case 'nav:back': {
      if (screenOf(s) === 'run' && runActive(s.run))
        return { ...s, message: 'A run is in progress: Ctrl-C asks to abort it.' };
      if (screenOf(s) === 'incident' && incidentActive(s.incident))
        return { ...s, message: 'The incident is running: Ctrl-C asks to abort it.' };
      if (s.stack.length <= 1) return { ...s, exit: { code: 0 } };
      return { ...s, stack: s.stack.slice(0, -1), help: false, input: null, message: null };
    }
    case 'help:toggle':
      return { ...s, help: !s.help };
    case 'prompt:open':
      return { ...s, prompt: a.prompt, help: false };
    case 'prompt:close':
      return { ...s, prompt: null };
    case 'quit':
      return { ...s, exit: { code: a.code }, prompt: null };
    case 'message':
      return { ...s, message: a.text };
    case 'input:set':
      return { ...s, input: a.field, message: null };
    case 'playbooks:request':
      return push(s, 'playbooks');
    case 'run:request': {
      // The run replaces the picker: going back from a finished run returns to the containers.
      const t = push({ ...s, stack: s.stack.filter((x) => x !== 'playbooks') }, 'run');
      return { ...t, prompt: null };
    }
    case 'incident:request': {
      const t = push({ ...s, stack: s.stack.filter((x) => x !== 'playbooks') }, 'incident');
      return { ...t, prompt: null };
    }
    case 'run:abort':
      return {
        ...s,
        prompt: null,
        message: 'Aborting: the current step is interrupted; what was collected is kept.',
      };
    case 'engine':
      // The outcome replaces whatever the footer said while the run went on.
      return a.event.type === 'run:end' && s.message ? { ...s, message: null } : s;
    case 'case:request':
      return push(s, 'case');
    case 'case:release':
      return { ...s, prompt: null };
    case 'timeline:request':
      return push(s, 'timeline');
    default:
      return s;
  }
}

/** The whole UI state as a pure function of engine events and user actions. */
export function tuiReducer(state: TuiState, a: TuiAction): TuiState {
  const s = shell(state, a);
  const next: TuiState = {
    ...s,
    containers: containersReducer(s.containers, a),
    playbooks: playbooksReducer(s.playbooks, a),
    run: runReducer(s.run, a),
    incident: incidentReducer(s.incident, a),
    case: caseReducer(s.case, a),
    timeline: timelineReducer(s.timeline, a, s.size),
  };
  // Keep object identity when nothing changed, so React can skip re-rendering.
  const same =
    next.containers === state.containers &&
    next.playbooks === state.playbooks &&
    next.run === state.run &&
    next.incident === state.incident &&
    next.case === state.case &&
    next.timeline === state.timeline &&
    s === state;
  return same ? state : next;
}
